/**
 * Access-control matrix: every external state-changing function of every platechain contract, called by every
 * role holder and by accounts holding no role. The list of functions is read from each contract's ABI, so a function
 * added later without an entry here fails the suite until someone states who may call it.
 *
 * For each (function, caller) the matrix says whether the call is allowed. Allowed calls are simulated
 * (`staticCall`) from the fixture's state and must succeed; refused calls must revert with the contract's own error
 * naming the caller (for a role: `AccessControlUnauthorizedAccount(caller, role)`).
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { Wallet, id, type BaseContract, type FunctionFragment } from "ethers";
import { network } from "hardhat";

import { TrustLevel, encodeBatch } from "../../scripts/lib/ledger.js";
import { signPermit } from "../../scripts/lib/permit.js";
import { encodeScans, signScanBatch } from "../../scripts/lib/scans.js";
import { VehicleClass, VehicleStatus } from "../../scripts/lib/vehicle.js";

import {
  ACCOUNT_NAMES,
  DAY,
  FEES,
  GANTRY,
  USD,
  dayRecord,
  deploySystem,
  type AccountName,
  type SystemFixture,
} from "./system.fixture.js";

const { ethers, networkHelpers } = await network.create();

async function systemFixture(): Promise<SystemFixture> {
  return deploySystem(ethers, networkHelpers);
}

/** The accounts every function is tried with: each role holder, the vehicle owner, and accounts with no role. */
const CALLERS: readonly AccountName[] = ACCOUNT_NAMES;

type Args = (f: SystemFixture, caller: HardhatEthersSigner) => Promise<unknown[]> | unknown[];

/** Who may call a function, and how everyone else is refused. */
type Gate =
  /** Holders of the role named by the contract constant (`DEFAULT_ADMIN_ROLE`, `REGISTRAR_ROLE`, ...). */
  | { readonly role: string; readonly holders: readonly AccountName[] }
  /** Only these accounts; others get `error` with `errorArgs`. */
  | {
      readonly only: readonly AccountName[];
      readonly error: string;
      readonly errorArgs: (f: SystemFixture, caller: HardhatEthersSigner) => unknown[];
      readonly why: string;
    }
  /** Anyone: what protects the function is stated in `why` (a signature, the caller's own funds, ...). */
  | { readonly anyone: true; readonly why: string };

interface Entry {
  readonly gate: Gate;
  readonly args: Args;
  /** State to set up first (in a fixture snapshot) so the allowed call can succeed. */
  readonly prepare?: (f: SystemFixture) => Promise<void>;
}

type Matrix = Readonly<Record<string, Entry>>;

const role = (name: string, holders: readonly AccountName[]): Gate => ({ role: name, holders });
const ADMIN_ONLY = role("DEFAULT_ADMIN_ROLE", ["admin"]);
/** An address never used before: a new plate key, oracle key or account. */
const freshAddress = (): string => Wallet.createRandom().address;

// ------------------------------------------------------------------------------------------------------------------
// Shared by the three contracts with AccessControlDefaultAdminRules
// ------------------------------------------------------------------------------------------------------------------

function defaultAdminRules(grantable: string): Matrix {
  return {
    "grantRole(bytes32,address)": {
      gate: ADMIN_ONLY,
      args: async (f) => [id(grantable), f.accounts.stranger.address],
    },
    "revokeRole(bytes32,address)": {
      gate: ADMIN_ONLY,
      args: async () => [id(grantable), Wallet.createRandom().address],
    },
    "renounceRole(bytes32,address)": {
      gate: { anyone: true, why: "an account can only renounce its own roles (the confirmation must be itself)" },
      args: (_f, caller) => [id(grantable), caller.address],
    },
    "beginDefaultAdminTransfer(address)": { gate: ADMIN_ONLY, args: (f) => [f.accounts.stranger.address] },
    "cancelDefaultAdminTransfer()": { gate: ADMIN_ONLY, args: () => [] },
    "changeDefaultAdminDelay(uint48)": { gate: ADMIN_ONLY, args: () => [5n * DAY] },
    "rollbackDefaultAdminDelay()": { gate: ADMIN_ONLY, args: () => [] },
    "acceptDefaultAdminTransfer()": {
      gate: {
        only: ["pendingAdmin"],
        error: "AccessControlInvalidDefaultAdmin",
        errorArgs: (_f, caller) => [caller.address],
        why: "only the pending admin, once the delay has passed",
      },
      args: () => [],
    },
  };
}

// ------------------------------------------------------------------------------------------------------------------
// VehicleRegistry
// ------------------------------------------------------------------------------------------------------------------

/** ERC-721 transfers of the car: its owner (or an approved operator: none in the fixture). */
const PASSPORT_HOLDER: Gate = {
  only: ["owner"],
  error: "ERC721InsufficientApproval",
  errorArgs: (f, caller) => [caller.address, f.car],
  why: "the passport's owner (or an approved operator: none in the fixture)",
};

const REGISTRY: Matrix = {
  ...defaultAdminRules("REGISTRAR_ROLE"),
  "registerVehicle(address,address,bytes32,uint8)": {
    gate: role("REGISTRAR_ROLE", ["registrar"]),
    args: (f, caller) => [f.accounts.buyer.address, freshAddress(), id(`new VIN for ${caller.address}`), VehicleClass.Van],
  },
  "rotatePlate(uint256,address)": {
    gate: role("REGISTRAR_ROLE", ["registrar"]),
    args: (f) => [f.car, freshAddress()],
  },
  "setStatus(uint256,uint8,uint32)": {
    gate: role("REGULATOR_ROLE", ["regulator"]),
    args: (f) => [f.car, VehicleStatus.Stolen, 7],
  },
  "approve(address,uint256)": {
    gate: {
      only: ["owner"],
      error: "ERC721InvalidApprover",
      errorArgs: (_f, caller) => [caller.address],
      why: "the passport's owner (or an operator approved for all: none in the fixture)",
    },
    args: (f) => [f.accounts.buyer.address, f.car],
  },
  "setApprovalForAll(address,bool)": {
    gate: { anyone: true, why: "sets approvals over the caller's own passports only" },
    args: (f) => [f.accounts.relayer.address, true],
  },
  "transferFrom(address,address,uint256)": {
    gate: PASSPORT_HOLDER,
    args: (f) => [f.accounts.owner.address, f.accounts.buyer.address, f.car],
  },
  "safeTransferFrom(address,address,uint256)": {
    gate: PASSPORT_HOLDER,
    args: (f) => [f.accounts.owner.address, f.accounts.buyer.address, f.car],
  },
  "safeTransferFrom(address,address,uint256,bytes)": {
    gate: PASSPORT_HOLDER,
    args: (f) => [f.accounts.owner.address, f.accounts.buyer.address, f.car, "0x1234"],
  },
};

// ------------------------------------------------------------------------------------------------------------------
// TollEscrow
// ------------------------------------------------------------------------------------------------------------------

const notOwner = (vehicle: (f: SystemFixture) => bigint) => (f: SystemFixture, caller: HardhatEthersSigner) => [
  vehicle(f),
  caller.address,
];

async function signedBatch(f: SystemFixture): Promise<unknown[]> {
  const now = BigInt(await networkHelpers.time.latest());
  const scans = encodeScans([{ vehicleId: f.buyersCar, timestamp: now - 10n, sequence: f.nextSequence }]);
  return [GANTRY, scans, await signScanBatch(f.oracle, f.escrowAddress, f.chainId, GANTRY, scans)];
}

async function permitFrom(f: SystemFixture, caller: HardhatEthersSigner, amount: bigint): Promise<unknown[]> {
  const deadline = BigInt(await networkHelpers.time.latest()) + DAY;
  const signature = await signPermit(f.token, f.chainId, caller, f.escrowAddress, amount, deadline);
  return [deadline, signature.v, signature.r, signature.s];
}

const ESCROW: Matrix = {
  ...defaultAdminRules("PAUSER_ROLE"),
  "submitScans(uint32,bytes,bytes)": {
    gate: { anyone: true, why: "the batch must carry a signature of one of the gantry's oracle keys" },
    args: signedBatch,
  },
  "submitScansWithinGas(uint32,bytes,bytes)": {
    gate: { anyone: true, why: "as submitScans: the batch must carry a signature of one of the gantry's oracle keys" },
    args: signedBatch,
  },
  "deposit(uint256,uint256)": {
    gate: { anyone: true, why: "anyone may top up any vehicle, with their own tokens" },
    args: (f) => [f.buyersCar, 5n * USD],
  },
  "depositWithPermit(uint256,uint256,uint256,uint8,bytes32,bytes32)": {
    gate: { anyone: true, why: "as deposit, with the caller's own permit" },
    args: async (f, caller) => [f.buyersCar, 5n * USD, ...(await permitFrom(f, caller, 5n * USD))],
  },
  "settleArrears(uint256)": {
    gate: { anyone: true, why: "moves only the vehicle's own balance to what it owes" },
    args: (f) => [f.car],
  },
  "requestWithdrawal(uint256)": {
    gate: {
      only: ["owner"],
      error: "TollEscrowNotVehicleOwner",
      errorArgs: notOwner((f) => f.car),
      why: "the vehicle's owner",
    },
    args: (f) => [f.car],
  },
  "cancelWithdrawal(uint256)": {
    gate: {
      only: ["owner"],
      error: "TollEscrowNotVehicleOwner",
      errorArgs: notOwner((f) => f.car),
      why: "whoever made the request, or the vehicle's owner",
    },
    args: (f) => [f.car],
  },
  "withdraw(uint256,uint256,address)": {
    gate: {
      only: ["owner"],
      error: "TollEscrowNotVehicleOwner",
      errorArgs: notOwner((f) => f.car),
      why: "the vehicle's owner who made the pending request",
    },
    args: (f) => [f.car, USD, f.accounts.owner.address],
  },
  "releaseRevenue(uint256[])": {
    gate: { anyone: true, why: "only credits revenue whose dispute window closed to the gantry's payee" },
    args: (f) => [[f.releasableBatch]],
  },
  "claimRevenue(address)": {
    gate: {
      only: ["operator"],
      error: "TollEscrowNothingToClaim",
      errorArgs: (_f, caller) => [caller.address],
      why: "a payee, for its own claimable revenue",
    },
    args: (_f, caller) => [caller.address],
  },
  "openDispute(uint256,bytes,uint256)": {
    gate: {
      only: ["owner"],
      error: "TollEscrowNotVehicleOwner",
      errorArgs: notOwner((f) => f.truck),
      why: "the current owner of the charged vehicle, within the window",
    },
    args: (f) => [f.disputedBatch, f.disputedLeaves, 1],
  },
  "resolveDispute(uint256,uint256,bool)": {
    gate: role("ARBITER_ROLE", ["arbiter"]),
    args: (f) => [f.disputedBatch, 0, true],
  },
  "registerGantry(uint32,address,address[],uint256[5])": {
    gate: role("TOLL_ADMIN_ROLE", ["tollAdmin"]),
    args: (f) => [99, f.accounts.operator.address, [freshAddress()], FEES],
  },
  "setOracleKey(uint32,address,bool)": {
    gate: role("TOLL_ADMIN_ROLE", ["tollAdmin"]),
    args: () => [GANTRY, freshAddress(), true],
  },
  "rotateOracleKey(uint32,address,address)": {
    gate: role("TOLL_ADMIN_ROLE", ["tollAdmin"]),
    args: (f) => [GANTRY, f.oracle.address, freshAddress()],
  },
  "retireGantry(uint32)": {
    gate: role("TOLL_ADMIN_ROLE", ["tollAdmin"]),
    args: () => [GANTRY],
  },
  "scheduleTariff(uint32,uint256[5],uint64)": {
    gate: role("TOLL_ADMIN_ROLE", ["tollAdmin"]),
    args: async () => [GANTRY, FEES, BigInt(await networkHelpers.time.latest()) + DAY],
  },
  "pause()": { gate: role("PAUSER_ROLE", ["pauser"]), args: () => [] },
  "unpause()": {
    gate: role("PAUSER_ROLE", ["pauser"]),
    args: () => [],
    prepare: async (f) => {
      await f.escrow.connect(f.accounts.pauser).pause();
    },
  },
};

// ------------------------------------------------------------------------------------------------------------------
// DrivingRecordLedger
// ------------------------------------------------------------------------------------------------------------------

const LEDGER: Matrix = {
  ...defaultAdminRules("REPORTER_ROLE"),
  "appendRecords(bytes)": {
    gate: role("REPORTER_ROLE", ["reporter"]),
    args: async (f) => {
      const now = BigInt(await networkHelpers.time.latest());
      return [encodeBatch([{ vehicleId: f.car, record: dayRecord(now), trust: TrustLevel.ReporterAsserted }])];
    },
  },
  "grantConsent(uint256,address,uint40)": {
    gate: {
      only: ["owner"],
      error: "DrivingRecordLedgerNotVehicleOwner",
      errorArgs: (f, caller) => [f.car, caller.address, f.accounts.owner.address],
      why: "the vehicle's current owner",
    },
    args: async (f) => [f.car, f.accounts.stranger.address, BigInt(await networkHelpers.time.latest()) + DAY],
  },
  "revokeConsent(uint256,address)": {
    gate: {
      only: ["owner"],
      error: "DrivingRecordLedgerNotVehicleOwner",
      errorArgs: (f, caller) => [f.car, caller.address, f.accounts.owner.address],
      why: "the vehicle's current owner",
    },
    args: (f) => [f.car, f.accounts.insurer.address],
  },
};

// ------------------------------------------------------------------------------------------------------------------
// TestStablecoin
// ------------------------------------------------------------------------------------------------------------------

const STABLECOIN: Matrix = {
  "grantRole(bytes32,address)": { gate: ADMIN_ONLY, args: (f) => [id("MINTER_ROLE"), f.accounts.stranger.address] },
  "revokeRole(bytes32,address)": { gate: ADMIN_ONLY, args: () => [id("MINTER_ROLE"), Wallet.createRandom().address] },
  "renounceRole(bytes32,address)": {
    gate: { anyone: true, why: "an account can only renounce its own roles" },
    args: (_f, caller) => [id("MINTER_ROLE"), caller.address],
  },
  "mint(address,uint256)": { gate: role("MINTER_ROLE", ["admin"]), args: (f) => [f.accounts.stranger.address, USD] },
  "approve(address,uint256)": {
    gate: { anyone: true, why: "approves spending of the caller's own tokens" },
    args: (f) => [f.accounts.stranger.address, USD],
  },
  "transfer(address,uint256)": {
    gate: { anyone: true, why: "moves the caller's own tokens" },
    args: (f) => [f.accounts.stranger.address, USD],
  },
  "transferFrom(address,address,uint256)": {
    gate: {
      only: [],
      error: "ERC20InsufficientAllowance",
      errorArgs: (_f, caller) => [caller.address, 0n, USD],
      why: "a spender the holder approved (only the escrow, in the fixture)",
    },
    args: (f) => [f.accounts.owner.address, f.accounts.stranger.address, USD],
  },
  "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)": {
    gate: { anyone: true, why: "needs the holder's EIP-2612 signature; anyone may submit it" },
    args: async (f) => [f.accounts.owner.address, f.escrowAddress, USD, ...(await permitFrom(f, f.accounts.owner, USD))],
  },
};

const CONTRACTS: Readonly<Record<string, { readonly pick: (f: SystemFixture) => BaseContract; readonly matrix: Matrix }>> =
  {
    VehicleRegistry: { pick: (f) => f.registry, matrix: REGISTRY },
    TollEscrow: { pick: (f) => f.escrow, matrix: ESCROW },
    DrivingRecordLedger: { pick: (f) => f.ledger, matrix: LEDGER },
    TestStablecoin: { pick: (f) => f.token, matrix: STABLECOIN },
  };

async function stateChangingFunctions(contractName: string): Promise<string[]> {
  const factory = await ethers.getContractFactory(contractName);
  return factory.interface.fragments
    .filter((fragment): fragment is FunctionFragment => fragment.type === "function")
    .filter((fragment) => fragment.stateMutability === "nonpayable" || fragment.stateMutability === "payable")
    .map((fragment) => fragment.format("sighash"))
    .sort();
}

function allowedCallers(gate: Gate): readonly AccountName[] {
  if ("anyone" in gate) return CALLERS;
  if ("role" in gate) return gate.holders;
  return gate.only;
}

describe("Access-control matrix", function () {
  let calls = 0;

  after(function () {
    console.log(`      (${calls} calls: every state-changing function x ${CALLERS.length} callers)`);
  });

  for (const [contractName, { pick, matrix }] of Object.entries(CONTRACTS)) {
    describe(contractName, function () {
      it("lists every external state-changing function of the ABI, and nothing else", async function () {
        const inAbi = await stateChangingFunctions(contractName);
        const inMatrix = Object.keys(matrix).sort();
        const missing = inAbi.filter((signature) => !inMatrix.includes(signature));
        const stale = inMatrix.filter((signature) => !inAbi.includes(signature));
        expect(missing, `functions of ${contractName} missing from the access-control matrix`).to.deep.equal([]);
        expect(stale, `matrix entries of ${contractName} that are not in its ABI`).to.deep.equal([]);
      });

      for (const [signature, entry] of Object.entries(matrix)) {
        const allowed = allowedCallers(entry.gate);
        const who = "anyone" in entry.gate ? `anyone (${entry.gate.why})` : allowed.join(", ") || "nobody here";
        it(`${signature}: ${who}`, async function () {
          const f = await networkHelpers.loadFixture(systemFixture);
          if (entry.prepare !== undefined) await entry.prepare(f);
          const contract = pick(f);
          const roleId =
            "role" in entry.gate ? ((await contract.getFunction(entry.gate.role).staticCall()) as string) : undefined;
          if (roleId !== undefined) {
            for (const name of CALLERS) {
              const holds = (await contract.getFunction("hasRole").staticCall(roleId, f.accounts[name].address)) as boolean;
              expect(holds, `${name} holds the role`).to.equal(allowed.includes(name));
            }
          }
          for (const name of CALLERS) {
            const caller = f.accounts[name];
            const args = await entry.args(f, caller);
            const call = (contract.connect(caller) as BaseContract).getFunction(signature).staticCall(...args);
            calls += 1;
            if (allowed.includes(name)) {
              await expect(call, `${name} may call ${signature}`).not.to.be.revert(ethers);
            } else if (roleId !== undefined) {
              await expect(call, `${name} calls ${signature}`)
                .to.be.revertedWithCustomError(contract, "AccessControlUnauthorizedAccount")
                .withArgs(caller.address, roleId);
            } else if ("only" in entry.gate) {
              await expect(call, `${name} calls ${signature}`)
                .to.be.revertedWithCustomError(contract, entry.gate.error)
                .withArgs(...entry.gate.errorArgs(f, caller));
            }
          }
        });
      }
    });
  }
});
