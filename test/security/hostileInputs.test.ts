/**
 * Hostile calls to the escrow's money paths, the gantry administration, the registry and the ledger, generated with
 * fast-check and sent through ethers to the in-process network: zero and maximum values, unknown ids, wrong callers,
 * wrong order of operations, malformed records, forged and malleable plate signatures, calls without the role.
 *
 * Each input must be refused with the contract's own custom error (and its arguments), and the whole system state
 * must read exactly as before (compared field by field through {@link SystemLens}).
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import fc from "fast-check";
import { Signature, Wallet, ZeroAddress, ZeroHash, concat, hexlify, id, toBeHex, type BaseContract } from "ethers";
import { network } from "hardhat";

import {
  RECORD_SIZE,
  TrustLevel,
  encodeBatch,
  encodeRecord,
  ledgerDomain,
  signRecord,
  type DrivingRecord,
} from "../../scripts/lib/ledger.js";
import { VehicleClass, VehicleStatus } from "../../scripts/lib/vehicle.js";

import { deployHostile, record, runs, snapshot, tally, type HostileFixture } from "./hostile.js";
import {
  ACCOUNT_NAMES,
  DAY,
  FEES,
  GANTRY,
  USD,
  WITHDRAWAL_NOTICE,
  dayRecord,
  type AccountName,
} from "./system.fixture.js";

const { ethers, networkHelpers } = await network.create();

async function hostileFixture(): Promise<HostileFixture> {
  return deployHostile(ethers, networkHelpers);
}

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const MAX_UINT256 = (1n << 256n) - 1n;
const UINT96_LIMIT = 1n << 96n;
const MAX_UINT48 = (1n << 48n) - 1n;
const WITHDRAWAL_WINDOW = 3n * DAY;

type Args = readonly unknown[];

/** One hostile call: what to set up, what to send, and the error (with its arguments) it must be refused with. */
interface Hostile {
  readonly label: string;
  readonly prepare?: (f: HostileFixture) => Promise<void>;
  readonly send: (f: HostileFixture) => Promise<unknown>;
  readonly refusedBy: (f: HostileFixture) => BaseContract;
  readonly error: string;
  /** Evaluated after `prepare`, before `send`. */
  readonly args: (f: HostileFixture) => Args | Promise<Args>;
}

const escrowError = (f: HostileFixture): BaseContract => f.escrow;
const registryError = (f: HostileFixture): BaseContract => f.registry;
const ledgerError = (f: HostileFixture): BaseContract => f.ledger;

async function now(): Promise<bigint> {
  return BigInt(await networkHelpers.time.latest());
}

async function refusedProperty(group: string, arbitrary: fc.Arbitrary<Hostile>, asked: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arbitrary, async (hostile) => {
      const f = await networkHelpers.loadFixture(hostileFixture);
      if (hostile.prepare !== undefined) await hostile.prepare(f);
      const args = await hostile.args(f);
      const before = await snapshot(f);
      await expect(hostile.send(f), hostile.label)
        .to.be.revertedWithCustomError(hostile.refusedBy(f), hostile.error)
        .withArgs(...args);
      expect(await snapshot(f), `state after ${hostile.label}`).to.deep.equal(before);
    }),
    { numRuns: runs(asked) },
  );
  record(group, runs(asked));
}

/** Accounts that hold no role and own nothing in the fixture. */
const outsider = fc.constantFrom<AccountName>("stranger", "relayer", "insurer", "operator", "pendingAdmin");
const anyAccount = fc.constantFrom<AccountName>(...ACCOUNT_NAMES);
const unknownVehicle = fc.oneof(fc.constant(0n), fc.bigInt({ min: 6n, max: MAX_UINT256 }));

// ------------------------------------------------------------------------------------------------------------------
// Escrow money paths
// ------------------------------------------------------------------------------------------------------------------

const deposits: fc.Arbitrary<Hostile> = fc.oneof(
  fc.constant<Hostile>({
    label: "deposit of zero",
    send: (f) => f.escrow.connect(f.accounts.owner).deposit(f.car, 0),
    refusedBy: escrowError,
    error: "TollEscrowZeroAmount",
    args: () => [],
  }),
  fc.tuple(unknownVehicle, fc.bigInt({ min: 1n, max: 1000n * USD })).map(([vehicleId, amount]): Hostile => ({
    label: `deposit for unknown vehicle ${vehicleId}`,
    send: (f) => f.escrow.connect(f.accounts.stranger).deposit(vehicleId, amount),
    refusedBy: escrowError,
    error: "TollEscrowUnknownVehicle",
    args: () => [vehicleId],
  })),
  fc.bigInt({ min: 1000n * USD + 1n, max: UINT96_LIMIT / 2n }).map((amount): Hostile => ({
    label: `deposit of ${amount} beyond the allowance`,
    send: (f) => f.escrow.connect(f.accounts.stranger).deposit(f.buyersCar, amount),
    refusedBy: (f) => f.token,
    error: "ERC20InsufficientAllowance",
    args: (f) => [f.escrowAddress, 1000n * USD, amount],
  })),
  // Up to 2^255: amounts so large that balance + amount overflows uint256 revert with a panic instead of
  // TollEscrowBalanceOverflow (see test/security/findings.test.ts).
  fc.bigInt({ min: 0n, max: (1n << 255n) - UINT96_LIMIT }).map((excess): Hostile => ({
    label: `deposit overflowing a balance by ${excess}`,
    send: (f) => f.escrow.connect(f.accounts.stranger).deposit(f.car, excess + UINT96_LIMIT),
    refusedBy: escrowError,
    error: "TollEscrowBalanceOverflow",
    args: async (f) => {
      const { balance } = await f.escrow.account(f.car);
      return [f.car, balance, excess + UINT96_LIMIT];
    },
  })),
);

const withdrawals: fc.Arbitrary<Hostile> = fc.oneof(
  fc.constant<Hostile>({
    label: "withdrawal without a request",
    send: (f) => f.escrow.connect(f.accounts.owner).withdraw(f.truck, USD, f.accounts.owner.address),
    refusedBy: escrowError,
    error: "TollEscrowNoWithdrawalRequest",
    args: (f) => [f.truck],
  }),
  outsider.map((caller): Hostile => ({
    label: `withdrawal by ${caller}, who does not own the vehicle`,
    send: (f) => f.escrow.connect(f.accounts[caller]).withdraw(f.car, USD, f.accounts[caller].address),
    refusedBy: escrowError,
    error: "TollEscrowNotVehicleOwner",
    args: (f) => [f.car, f.accounts[caller].address],
  })),
  fc.bigInt({ min: 1n, max: WITHDRAWAL_NOTICE - 10n }).map((wait): Hostile => ({
    label: `withdrawal ${wait}s into the notice`,
    prepare: async (f) => {
      await f.escrow.connect(f.accounts.owner).requestWithdrawal(f.truck);
      await networkHelpers.time.increase(wait);
    },
    send: (f) => f.escrow.connect(f.accounts.owner).withdraw(f.truck, USD, f.accounts.owner.address),
    refusedBy: escrowError,
    error: "TollEscrowWithdrawalNotReady",
    args: async (f) => [f.truck, (await f.escrow.withdrawalRequest(f.truck)).requestedAt + WITHDRAWAL_NOTICE],
  })),
  fc.bigInt({ min: WITHDRAWAL_WINDOW, max: 365n * DAY }).map((late): Hostile => ({
    label: `withdrawal ${late}s after the request became ready`,
    prepare: async (f) => {
      const { requestedAt } = await f.escrow.withdrawalRequest(f.car);
      await networkHelpers.time.increaseTo(requestedAt + WITHDRAWAL_NOTICE + late + 1n);
    },
    send: (f) => f.escrow.connect(f.accounts.owner).withdraw(f.car, USD, f.accounts.owner.address),
    refusedBy: escrowError,
    error: "TollEscrowWithdrawalExpired",
    args: async (f) => [f.car, (await f.escrow.withdrawalRequest(f.car)).requestedAt + WITHDRAWAL_NOTICE + WITHDRAWAL_WINDOW],
  })),
  fc.constant<Hostile>({
    label: "withdrawal to the zero address",
    send: (f) => f.escrow.connect(f.accounts.owner).withdraw(f.car, USD, ZeroAddress),
    refusedBy: escrowError,
    error: "TollEscrowInvalidRecipient",
    args: () => [ZeroAddress],
  }),
  fc.constant<Hostile>({
    label: "withdrawal of zero",
    send: (f) => f.escrow.connect(f.accounts.owner).withdraw(f.car, 0, f.accounts.owner.address),
    refusedBy: escrowError,
    error: "TollEscrowZeroAmount",
    args: () => [],
  }),
  fc.bigInt({ min: 1n, max: MAX_UINT256 - 1n }).map((extra): Hostile => ({
    label: `withdrawal of more than the balance`,
    send: async (f) => {
      const { balance } = await f.escrow.account(f.car);
      const amount = balance + extra >= MAX_UINT256 ? MAX_UINT256 - 1n : balance + extra;
      return f.escrow.connect(f.accounts.owner).withdraw(f.car, amount, f.accounts.owner.address);
    },
    refusedBy: escrowError,
    error: "TollEscrowInsufficientBalance",
    args: async (f) => {
      const { balance } = await f.escrow.account(f.car);
      const amount = balance + extra >= MAX_UINT256 ? MAX_UINT256 - 1n : balance + extra;
      return [f.car, balance, amount];
    },
  })),
  fc.constant<Hostile>({
    label: "withdrawal by the buyer on the seller's request",
    prepare: async (f) => {
      await f.registry
        .connect(f.accounts.owner)
        .transferFrom(f.accounts.owner.address, f.accounts.buyer.address, f.car);
    },
    send: (f) => f.escrow.connect(f.accounts.buyer).withdraw(f.car, USD, f.accounts.buyer.address),
    refusedBy: escrowError,
    error: "TollEscrowWithdrawalRequestVoid",
    args: (f) => [f.car, f.accounts.owner.address],
  }),
);

const cancellations: fc.Arbitrary<Hostile> = fc.oneof(
  anyAccount.map((caller): Hostile => ({
    label: `cancellation by ${caller} of a request never made`,
    send: (f) => f.escrow.connect(f.accounts[caller]).cancelWithdrawal(f.truck),
    refusedBy: escrowError,
    error: "TollEscrowNoWithdrawalRequest",
    args: (f) => [f.truck],
  })),
  outsider.map((caller): Hostile => ({
    label: `cancellation by ${caller}, who neither made the request nor owns the vehicle`,
    send: (f) => f.escrow.connect(f.accounts[caller]).cancelWithdrawal(f.car),
    refusedBy: escrowError,
    error: "TollEscrowNotVehicleOwner",
    args: (f) => [f.car, f.accounts[caller].address],
  })),
);

// ------------------------------------------------------------------------------------------------------------------
// Escrow revenue, disputes, administration
// ------------------------------------------------------------------------------------------------------------------

const revenue: fc.Arbitrary<Hostile> = fc.oneof(
  fc.oneof(fc.constant(0n), fc.bigInt({ min: 4n, max: MAX_UINT256 })).map((batchId): Hostile => ({
    label: `release of unknown batch ${batchId}, next to a releasable one`,
    send: (f) => f.escrow.releaseRevenue([f.releasableBatch, batchId]),
    refusedBy: escrowError,
    error: "TollEscrowUnknownBatch",
    args: () => [batchId],
  })),
  fc.constant<Hostile>({
    label: "release of an already released batch",
    send: (f) => f.escrow.releaseRevenue([f.releasedBatch]),
    refusedBy: escrowError,
    error: "TollEscrowBatchReleased",
    args: (f) => [f.releasedBatch],
  }),
  fc.bigInt({ min: 1n, max: 6n * DAY }).map((wait): Hostile => ({
    label: `release ${wait}s into a batch's dispute window`,
    prepare: async () => {
      await networkHelpers.time.increase(wait);
    },
    send: (f) => f.escrow.releaseRevenue([f.disputedBatch]),
    refusedBy: escrowError,
    error: "TollEscrowDisputeWindowOpen",
    args: async (f) => [f.disputedBatch, (await f.escrow.batch(f.disputedBatch)).settledAt + 7n * DAY],
  })),
  outsider.filter((name) => name !== "operator").map((caller): Hostile => ({
    label: `claim by ${caller}, who is owed nothing`,
    send: (f) => f.escrow.connect(f.accounts[caller]).claimRevenue(f.accounts[caller].address),
    refusedBy: escrowError,
    error: "TollEscrowNothingToClaim",
    args: (f) => [f.accounts[caller].address],
  })),
  fc.constant<Hostile>({
    label: "claim to the zero address",
    send: (f) => f.escrow.connect(f.accounts.operator).claimRevenue(ZeroAddress),
    refusedBy: escrowError,
    error: "TollEscrowInvalidRecipient",
    args: () => [ZeroAddress],
  }),
);

const disputes: fc.Arbitrary<Hostile> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 120 }).map((leaves): Hostile => ({
    label: "dispute with forged leaves",
    send: (f) => f.escrow.connect(f.accounts.owner).openDispute(f.disputedBatch, hexlify(leaves), 0),
    refusedBy: escrowError,
    error: "TollEscrowInvalidProof",
    args: (f) => [f.disputedBatch],
  })),
  fc.bigInt({ min: 2n, max: MAX_UINT256 }).map((leafIndex): Hostile => ({
    label: `dispute of leaf ${leafIndex}, past the batch's leaves`,
    send: (f) => f.escrow.connect(f.accounts.owner).openDispute(f.disputedBatch, f.disputedLeaves, leafIndex),
    refusedBy: escrowError,
    error: "TollEscrowInvalidLeafIndex",
    args: (f) => [f.disputedBatch, leafIndex],
  })),
  fc.constant<Hostile>({
    label: "dispute after the window closed",
    send: (f) => f.escrow.connect(f.accounts.owner).openDispute(f.releasableBatch, "0x", 0),
    refusedBy: escrowError,
    error: "TollEscrowDisputeWindowClosed",
    args: async (f) => [f.releasableBatch, (await f.escrow.batch(f.releasableBatch)).settledAt + 7n * DAY],
  }),
  fc.constant<Hostile>({
    label: "second dispute of the same charge",
    send: (f) => f.escrow.connect(f.accounts.owner).openDispute(f.disputedBatch, f.disputedLeaves, 0),
    refusedBy: escrowError,
    error: "TollEscrowAlreadyDisputed",
    args: (f) => [f.disputedBatch, 0, 1],
  }),
  fc.oneof(fc.constant(0n), fc.bigInt({ min: 4n, max: MAX_UINT256 })).map((batchId): Hostile => ({
    label: `dispute in unknown batch ${batchId}`,
    send: (f) => f.escrow.connect(f.accounts.owner).openDispute(batchId, "0x", 0),
    refusedBy: escrowError,
    error: "TollEscrowUnknownBatch",
    args: () => [batchId],
  })),
  fc.bigInt({ min: 1n, max: MAX_UINT256 }).map((leafIndex): Hostile => ({
    label: `resolution of leaf ${leafIndex}, which is not under dispute`,
    send: (f) => f.escrow.connect(f.accounts.arbiter).resolveDispute(f.disputedBatch, leafIndex, true),
    refusedBy: escrowError,
    error: "TollEscrowDisputeNotOpen",
    args: (f) => [f.disputedBatch, leafIndex],
  })),
);

const fees = fc.tuple(fc.nat({ max: 4 }), fc.bigInt({ min: (1n << 48n), max: MAX_UINT256 }));

const administration: fc.Arbitrary<Hostile> = fc.oneof(
  fc.constantFrom(1, 2).map((gantryId): Hostile => ({
    label: `registration of existing gantry ${gantryId}`,
    send: (f) => f.escrow.connect(f.accounts.tollAdmin).registerGantry(gantryId, f.accounts.operator.address, [Wallet.createRandom().address], FEES),
    refusedBy: escrowError,
    error: "TollEscrowGantryExists",
    args: () => [gantryId],
  })),
  fc.integer({ min: 3, max: 0xffffffff }).map((gantryId): Hostile => ({
    label: "gantry with the zero payee",
    send: (f) => f.escrow.connect(f.accounts.tollAdmin).registerGantry(gantryId, ZeroAddress, [Wallet.createRandom().address], FEES),
    refusedBy: escrowError,
    error: "TollEscrowInvalidPayee",
    args: () => [ZeroAddress],
  })),
  fc.integer({ min: 3, max: 0xffffffff }).map((gantryId): Hostile => ({
    label: "gantry without oracle keys",
    send: (f) => f.escrow.connect(f.accounts.tollAdmin).registerGantry(gantryId, f.accounts.operator.address, [], FEES),
    refusedBy: escrowError,
    error: "TollEscrowNoOracleKeys",
    args: () => [gantryId],
  })),
  fc.integer({ min: 3, max: 0xffffffff }).map((gantryId): Hostile => ({
    label: "gantry with the zero oracle key",
    send: (f) => f.escrow.connect(f.accounts.tollAdmin).registerGantry(gantryId, f.accounts.operator.address, [Wallet.createRandom().address, ZeroAddress], FEES),
    refusedBy: escrowError,
    error: "TollEscrowInvalidOracleKey",
    args: () => [ZeroAddress],
  })),
  fc.tuple(fc.integer({ min: 3, max: 0xffffffff }), fees).map(([gantryId, [classIndex, fee]]): Hostile => {
    const tariff = [...FEES];
    tariff[classIndex] = fee;
    return {
      label: `gantry with fee ${fee} above MAX_FEE`,
      send: (f) => f.escrow.connect(f.accounts.tollAdmin).registerGantry(gantryId, f.accounts.operator.address, [Wallet.createRandom().address], tariff as typeof FEES),
      refusedBy: escrowError,
      error: "TollEscrowFeeTooHigh",
      args: () => [classIndex, fee],
    };
  }),
  fees.map(([classIndex, fee]): Hostile => {
    const tariff = [...FEES];
    tariff[classIndex] = fee;
    return {
      label: `tariff with fee ${fee} above MAX_FEE`,
      send: async (f) => f.escrow.connect(f.accounts.tollAdmin).scheduleTariff(GANTRY, tariff as typeof FEES, (await now()) + DAY),
      refusedBy: escrowError,
      error: "TollEscrowFeeTooHigh",
      args: () => [classIndex, fee],
    };
  }),
  fc.bigInt({ min: 0n, max: 1_000_000n }).map((back): Hostile => ({
    label: `tariff taking effect ${back}s in the past`,
    send: async (f) => {
      const effectiveAt = (await now()) - back;
      return f.escrow.connect(f.accounts.tollAdmin).scheduleTariff(GANTRY, FEES, effectiveAt < 0n ? 0n : effectiveAt);
    },
    refusedBy: escrowError,
    error: "TollEscrowInvalidTariffTime",
    args: () => [anyValue, anyValue],
  })),
  fc.integer({ min: 3, max: 0xffffffff }).map((gantryId): Hostile => ({
    label: `tariff for unknown gantry ${gantryId}`,
    send: async (f) => f.escrow.connect(f.accounts.tollAdmin).scheduleTariff(gantryId, FEES, (await now()) + DAY),
    refusedBy: escrowError,
    error: "TollEscrowUnknownGantry",
    args: () => [gantryId],
  })),
  fc.constant<Hostile>({
    label: "authorising an oracle key already authorised",
    send: (f) => f.escrow.connect(f.accounts.tollAdmin).setOracleKey(GANTRY, f.oracle.address, true),
    refusedBy: escrowError,
    error: "TollEscrowOracleKeyUnchanged",
    args: (f) => [GANTRY, f.oracle.address, true],
  }),
  fc.boolean().map((authorized): Hostile => ({
    label: "the zero address as oracle key",
    send: (f) => f.escrow.connect(f.accounts.tollAdmin).setOracleKey(GANTRY, ZeroAddress, authorized),
    refusedBy: escrowError,
    error: "TollEscrowInvalidOracleKey",
    args: () => [ZeroAddress],
  })),
  fc.constant<Hostile>({
    label: "pausing while paused",
    prepare: async (f) => {
      await f.escrow.connect(f.accounts.pauser).pause();
    },
    send: (f) => f.escrow.connect(f.accounts.pauser).pause(),
    refusedBy: escrowError,
    error: "TollEscrowPaused",
    args: async (f) => [await f.escrow.pausedUntil()],
  }),
  fc.constant<Hostile>({
    label: "unpausing while not paused",
    send: (f) => f.escrow.connect(f.accounts.pauser).unpause(),
    refusedBy: escrowError,
    error: "TollEscrowNotPaused",
    args: () => [],
  }),
);

// ------------------------------------------------------------------------------------------------------------------
// Calls without the role
// ------------------------------------------------------------------------------------------------------------------

interface GatedCall {
  readonly role: (f: HostileFixture) => Promise<string>;
  readonly holders: readonly AccountName[];
  readonly contract: (f: HostileFixture) => BaseContract;
  readonly call: (f: HostileFixture, caller: HardhatEthersSigner) => Promise<unknown>;
}

const GATED: readonly GatedCall[] = [
  {
    role: (f) => f.registry.REGISTRAR_ROLE(),
    holders: ["registrar"],
    contract: registryError,
    call: (f, c) => f.registry.connect(c).registerVehicle(c.address, Wallet.createRandom().address, id("x"), VehicleClass.Car),
  },
  {
    role: (f) => f.registry.REGISTRAR_ROLE(),
    holders: ["registrar"],
    contract: registryError,
    call: (f, c) => f.registry.connect(c).rotatePlate(f.car, Wallet.createRandom().address),
  },
  {
    role: (f) => f.registry.REGULATOR_ROLE(),
    holders: ["regulator"],
    contract: registryError,
    call: (f, c) => f.registry.connect(c).setStatus(f.car, VehicleStatus.Stolen, 0),
  },
  {
    role: (f) => f.escrow.TOLL_ADMIN_ROLE(),
    holders: ["tollAdmin"],
    contract: escrowError,
    call: (f, c) => f.escrow.connect(c).setOracleKey(GANTRY, c.address, true),
  },
  {
    role: (f) => f.escrow.TOLL_ADMIN_ROLE(),
    holders: ["tollAdmin"],
    contract: escrowError,
    call: (f, c) => f.escrow.connect(c).retireGantry(GANTRY),
  },
  {
    role: (f) => f.escrow.TOLL_ADMIN_ROLE(),
    holders: ["tollAdmin"],
    contract: escrowError,
    call: async (f, c) => f.escrow.connect(c).scheduleTariff(GANTRY, [0n, 0n, 0n, 0n, 0n], (await now()) + DAY),
  },
  {
    role: (f) => f.escrow.ARBITER_ROLE(),
    holders: ["arbiter"],
    contract: escrowError,
    call: (f, c) => f.escrow.connect(c).resolveDispute(f.disputedBatch, 0, true),
  },
  {
    role: (f) => f.escrow.PAUSER_ROLE(),
    holders: ["pauser"],
    contract: escrowError,
    call: (f, c) => f.escrow.connect(c).pause(),
  },
  {
    role: (f) => f.ledger.REPORTER_ROLE(),
    holders: ["reporter"],
    contract: ledgerError,
    call: async (f, c) =>
      f.ledger.connect(c).appendRecords(encodeBatch([{ vehicleId: f.car, record: dayRecord(await now()), trust: TrustLevel.ReporterAsserted }])),
  },
  {
    role: (f) => f.token.MINTER_ROLE(),
    holders: ["admin"],
    contract: (f) => f.token,
    call: (f, c) => f.token.connect(c).mint(c.address, 10n ** 30n),
  },
  {
    role: async () => ZeroHash,
    holders: ["admin"],
    contract: escrowError,
    call: async (f, c) => f.escrow.connect(c).grantRole(await f.escrow.PAUSER_ROLE(), c.address),
  },
  {
    role: async () => ZeroHash,
    holders: ["admin"],
    contract: ledgerError,
    call: async (f, c) => f.ledger.connect(c).grantRole(await f.ledger.REPORTER_ROLE(), c.address),
  },
  {
    role: async () => ZeroHash,
    holders: ["admin"],
    contract: registryError,
    call: (f, c) => f.registry.connect(c).beginDefaultAdminTransfer(c.address),
  },
];

const withoutRole: fc.Arbitrary<Hostile> = fc
  .tuple(fc.nat({ max: GATED.length - 1 }), anyAccount)
  .filter(([index, caller]) => !GATED[index].holders.includes(caller))
  .map(([index, caller]): Hostile => ({
    label: `gated call ${index} by ${caller}, without the role`,
    send: (f) => GATED[index].call(f, f.accounts[caller]),
    refusedBy: (f) => GATED[index].contract(f),
    error: "AccessControlUnauthorizedAccount",
    args: async (f) => [f.accounts[caller].address, await GATED[index].role(f)],
  }));

// ------------------------------------------------------------------------------------------------------------------
// Registry
// ------------------------------------------------------------------------------------------------------------------

const registration = (
  label: string,
  params: (f: HostileFixture) => [string, string, string, number],
  error: string,
  args: (f: HostileFixture) => Args,
): Hostile => ({
  label,
  send: (f) => f.registry.connect(f.accounts.registrar).registerVehicle(...params(f)),
  refusedBy: registryError,
  error,
  args,
});

const freshVin = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => hexlify(bytes)).filter((vin) => vin !== ZeroHash);

const registryInputs: fc.Arbitrary<Hostile> = fc.oneof(
  freshVin.map((vin) => registration("owner zero", (f) => [ZeroAddress, Wallet.createRandom().address, vin, 1], "VehicleRegistryInvalidOwner", () => [ZeroAddress])),
  fc.constant(registration("VIN commitment zero", (f) => [f.accounts.buyer.address, Wallet.createRandom().address, ZeroHash, 1], "VehicleRegistryInvalidVinCommitment", () => [ZeroHash])),
  fc.tuple(freshVin, fc.integer({ min: 6, max: 255 })).map(([vin, vehicleClass]) =>
    registration(`class ${vehicleClass}`, (f) => [f.accounts.buyer.address, Wallet.createRandom().address, vin, vehicleClass], "VehicleRegistryInvalidClass", () => [vehicleClass]),
  ),
  fc.constant(registration("VIN of the car again", (f) => [f.accounts.buyer.address, Wallet.createRandom().address, id(`VIN ${f.car}`), 1], "VehicleRegistryVinInUse", (f) => [id(`VIN ${f.car}`), f.car])),
  freshVin.map((vin) => registration("plate zero", (f) => [f.accounts.buyer.address, ZeroAddress, vin, 1], "VehicleRegistryInvalidPlate", () => [ZeroAddress])),
  freshVin.map((vin) =>
    registration("the car's plate again", (f) => [f.accounts.buyer.address, (f.plates.get(f.car) as Wallet).address, vin, 1], "VehicleRegistryPlateInUse", (f) => [(f.plates.get(f.car) as Wallet).address, f.car]),
  ),
  freshVin.map((vin) =>
    registration("a revoked plate", (f) => [f.accounts.buyer.address, f.revokedPlate.address, vin, 1], "VehicleRegistryPlateRevoked", (f) => [f.revokedPlate.address]),
  ),
  fc.tuple(unknownVehicle, fc.integer({ min: 0, max: 255 })).map(([vehicleId, status]): Hostile => ({
    label: `status of unknown vehicle ${vehicleId}`,
    send: (f) => f.registry.connect(f.accounts.regulator).setStatus(vehicleId, status, 0),
    refusedBy: registryError,
    error: "VehicleRegistryUnknownVehicle",
    args: () => [vehicleId],
  })),
  fc.integer({ min: 5, max: 255 }).map((status): Hostile => ({
    label: `status ${status}`,
    send: (f) => f.registry.connect(f.accounts.regulator).setStatus(f.car, status, 0),
    refusedBy: registryError,
    error: "VehicleRegistryInvalidStatus",
    args: () => [status],
  })),
  fc.constantFrom(VehicleStatus.None, VehicleStatus.Active).map((status): Hostile => ({
    label: `status ${status} for an active car`,
    send: (f) => f.registry.connect(f.accounts.regulator).setStatus(f.car, status, 0),
    refusedBy: registryError,
    error: "VehicleRegistryInvalidStatusChange",
    args: (f) => [f.car, VehicleStatus.Active, status],
  })),
  fc.integer({ min: 0, max: 4 }).map((status): Hostile => ({
    label: `status ${status} for a scrapped car`,
    send: (f) => f.registry.connect(f.accounts.regulator).setStatus(f.scrappedCar, status, 0),
    refusedBy: registryError,
    error: "VehicleRegistryInvalidStatusChange",
    args: (f) => [f.scrappedCar, VehicleStatus.Scrapped, status],
  })),
  fc.constant<Hostile>({
    label: "new plate for a scrapped car",
    send: (f) => f.registry.connect(f.accounts.registrar).rotatePlate(f.scrappedCar, Wallet.createRandom().address),
    refusedBy: registryError,
    error: "VehicleRegistryVehicleNotActive",
    args: (f) => [f.scrappedCar, VehicleStatus.Scrapped],
  }),
  fc.constantFrom("zero", "inUse", "revoked").map((kind): Hostile => ({
    label: `rotation to a ${kind} plate`,
    send: (f) => {
      const plate = kind === "zero" ? ZeroAddress : kind === "inUse" ? (f.plates.get(f.truck) as Wallet).address : f.revokedPlate.address;
      return f.registry.connect(f.accounts.registrar).rotatePlate(f.car, plate);
    },
    refusedBy: registryError,
    error: kind === "zero" ? "VehicleRegistryInvalidPlate" : kind === "inUse" ? "VehicleRegistryPlateInUse" : "VehicleRegistryPlateRevoked",
    args: (f) =>
      kind === "zero" ? [ZeroAddress] : kind === "inUse" ? [(f.plates.get(f.truck) as Wallet).address, f.truck] : [f.revokedPlate.address],
  })),
  fc.tuple(fc.constantFrom("stolen", "scrapped", "suspended"), fc.boolean()).map(([kind, safe]): Hostile => ({
    label: `${safe ? "safe " : ""}transfer of a ${kind} vehicle by its owner`,
    prepare: async (f) => {
      if (kind === "suspended") await f.registry.connect(f.accounts.regulator).setStatus(f.buyersCar, VehicleStatus.Suspended, 0);
    },
    send: (f) => {
      const vehicleId = kind === "stolen" ? f.stolenCar : kind === "scrapped" ? f.scrappedCar : f.buyersCar;
      const from = f.registry.connect(f.accounts.buyer);
      return safe
        ? from["safeTransferFrom(address,address,uint256)"](f.accounts.buyer.address, f.accounts.stranger.address, vehicleId)
        : from.transferFrom(f.accounts.buyer.address, f.accounts.stranger.address, vehicleId);
    },
    refusedBy: registryError,
    error: "VehicleRegistryVehicleNotActive",
    args: (f) =>
      kind === "stolen"
        ? [f.stolenCar, VehicleStatus.Stolen]
        : kind === "scrapped"
          ? [f.scrappedCar, VehicleStatus.Scrapped]
          : [f.buyersCar, VehicleStatus.Suspended],
  })),
);

// ------------------------------------------------------------------------------------------------------------------
// Ledger
// ------------------------------------------------------------------------------------------------------------------

/** The car's next valid record (its chain ends a day before the fixture's last block). */
async function nextRecord(f: HostileFixture, overrides: Partial<DrivingRecord> = {}): Promise<DrivingRecord> {
  const [, , lastEnd] = await f.ledger.chainOf(f.car);
  return { ...dayRecord(lastEnd + DAY, "next"), ...overrides };
}

const append = (f: HostileFixture, records: string) => f.ledger.connect(f.accounts.reporter).appendRecords(records);

async function asserted(f: HostileFixture, overrides: Partial<DrivingRecord>, vehicleId = f.car): Promise<string> {
  return encodeBatch([{ vehicleId, record: await nextRecord(f, overrides), trust: TrustLevel.ReporterAsserted }]);
}

/** A record whose wire bytes carry `trust`, whatever it is (encodeBatch only writes the two valid levels). */
async function withTrust(f: HostileFixture, trust: number): Promise<string> {
  return encodeRecord(f.car, await nextRecord(f), trust as TrustLevel);
}

const ledgerInputs: fc.Arbitrary<Hostile> = fc.oneof(
  fc.integer({ min: 0, max: RECORD_SIZE - 1 }).map((length): Hostile => ({
    label: `${length} bytes: less than one record`,
    send: (f) => append(f, hexlify(new Uint8Array(length).fill(7))),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerMalformedRecords",
    args: () => [0, length],
  })),
  fc.integer({ min: 1, max: RECORD_SIZE - 1 }).map((extra): Hostile => ({
    label: `a record followed by ${extra} stray bytes`,
    send: async (f) => append(f, concat([await asserted(f, {}), new Uint8Array(extra)])),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerMalformedRecords",
    args: () => [RECORD_SIZE, RECORD_SIZE + extra],
  })),
  fc.oneof(fc.constant(0n), fc.bigInt({ min: 6n, max: MAX_UINT48 })).map((vehicleId): Hostile => ({
    label: `record of unknown vehicle ${vehicleId}`,
    send: async (f) => append(f, await asserted(f, {}, vehicleId)),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerUnknownVehicle",
    args: () => [vehicleId],
  })),
  fc.integer({ min: 2, max: 255 }).map((trust): Hostile => ({
    label: `trust byte ${trust}`,
    send: async (f) => append(f, await withTrust(f, trust)),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerInvalidTrustLevel",
    args: (f) => [f.car, trust],
  })),
  fc.integer({ min: 0, max: 100_000 }).map((back): Hostile => ({
    label: `period ending ${back}s before it starts`,
    send: async (f) => {
      const r = await nextRecord(f);
      return append(f, await asserted(f, { periodEnd: r.periodStart - back, drivingSeconds: 0, speedingSeconds: 0 }));
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerInvalidPeriod",
    args: async (f) => {
      const r = await nextRecord(f);
      return [f.car, r.periodStart, r.periodStart - back];
    },
  })),
  fc.integer({ min: 1, max: 1_000_000_000 }).map((ahead): Hostile => ({
    label: `period ending ${ahead}s in the future`,
    send: async (f) => append(f, await asserted(f, { periodEnd: Number(await now()) + 86_400 + ahead })),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerFuturePeriod",
    args: (f) => [f.car, anyValue, anyValue],
  })),
  fc.integer({ min: 1, max: 30 * 86_400 }).map((overlap): Hostile => ({
    label: `period overlapping the chain by ${overlap}s`,
    send: async (f) => {
      const r = await nextRecord(f);
      return append(f, await asserted(f, { periodStart: r.periodStart - overlap, drivingSeconds: 0, speedingSeconds: 0 }));
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerPeriodOverlap",
    args: async (f) => {
      const r = await nextRecord(f);
      return [f.car, r.periodStart - overlap, r.periodStart];
    },
  })),
  fc.integer({ min: 1, max: 2 ** 31 }).map((extra): Hostile => ({
    label: "more driving time than the period lasts",
    send: async (f) => append(f, await asserted(f, { drivingSeconds: 86_400 + extra, speedingSeconds: 0 })),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerDrivingTimeExceedsPeriod",
    args: (f) => [f.car, 86_400 + extra, 86_400],
  })),
  fc.integer({ min: 1, max: 80_000 }).map((extra): Hostile => ({
    label: "more speeding than driving",
    send: async (f) => append(f, await asserted(f, { drivingSeconds: 5_400, speedingSeconds: 5_400 + extra })),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerSpeedingExceedsDrivingTime",
    args: (f) => [f.car, 5_400 + extra, 5_400],
  })),
  fc.integer({ min: 1, max: 2 ** 39 }).map((extra): Hostile => ({
    label: "more night distance than distance",
    send: async (f) => append(f, await asserted(f, { distanceMeters: 1_000, nightDistanceMeters: 1_000 + extra })),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerNightDistanceExceedsDistance",
    args: (f) => [f.car, 1_000 + extra, 1_000],
  })),
  fc.constant<Hostile>({
    label: "zero data hash",
    send: async (f) => append(f, await asserted(f, { dataHash: ZeroHash })),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerInvalidDataHash",
    args: (f) => [f.car],
  }),
  fc.integer({ min: 2, max: 2 ** 24 - 1 }).map((corrects): Hostile => ({
    label: `correction of record ${corrects}, beyond the chain`,
    send: async (f) => {
      const [, , lastEnd] = await f.ledger.chainOf(f.car);
      return append(f, await asserted(f, { ...dayRecord(lastEnd, "fix"), corrects }));
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerInvalidCorrection",
    args: (f) => [f.car, corrects, 1],
  })),
  fc.integer({ min: 1, max: 43_200 }).map((beyond): Hostile => ({
    label: `correction reaching ${beyond}s past the recorded time`,
    send: async (f) => {
      const [, , lastEnd] = await f.ledger.chainOf(f.car);
      return append(f, await asserted(f, { ...dayRecord(lastEnd + BigInt(beyond), "fix"), corrects: 1 }));
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerCorrectionOutsideHistory",
    args: async (f) => {
      const [, , lastEnd] = await f.ledger.chainOf(f.car);
      return [f.car, lastEnd + BigInt(beyond), lastEnd];
    },
  })),
  fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }).map((key): Hostile => {
    const wallet = new Wallet(toBeHex(key, 32));
    return {
      label: "plate-signed record signed by another key",
      send: async (f) => {
        const record = await nextRecord(f);
        const signature = await signRecord(wallet, ledgerDomain(f.chainId, await f.ledger.getAddress()), f.car, record);
        return append(f, encodeBatch([{ vehicleId: f.car, record, trust: TrustLevel.PlateSigned, signature }]));
      },
      refusedBy: ledgerError,
      error: "DrivingRecordLedgerWrongSigner",
      args: (f) => [f.car, wallet.address, (f.plates.get(f.car) as Wallet).address],
    };
  }),
  fc.constant<Hostile>({
    label: "plate-signed record with the plate's signature made malleable",
    send: async (f) => {
      const record = await nextRecord(f);
      const plate = f.plates.get(f.car) as Wallet;
      const good = Signature.from(await signRecord(plate, ledgerDomain(f.chainId, await f.ledger.getAddress()), f.car, record));
      const flipped = concat([good.r, toBeHex(SECP256K1_N - BigInt(good.s), 32), toBeHex(good.v === 27 ? 28 : 27, 1)]);
      return append(f, encodeBatch([{ vehicleId: f.car, record, trust: TrustLevel.PlateSigned, signature: flipped }]));
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerWrongSigner",
    args: (f) => [f.car, ZeroAddress, (f.plates.get(f.car) as Wallet).address],
  }),
  fc.constant<Hostile>({
    label: "plate-signed record signed by a plate rotated out",
    send: async (f) => {
      const record = dayRecord(await now(), "old plate");
      const signature = await signRecord(f.revokedPlate, ledgerDomain(f.chainId, await f.ledger.getAddress()), f.buyersCar, record);
      return append(f, encodeBatch([{ vehicleId: f.buyersCar, record, trust: TrustLevel.PlateSigned, signature }]));
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerWrongSigner",
    args: (f) => [f.buyersCar, f.revokedPlate.address, (f.plates.get(f.buyersCar) as Wallet).address],
  }),
  fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }).filter((chainId) => chainId !== 31337n).map((chainId): Hostile => ({
    label: `plate-signed record signed for chain ${chainId}`,
    send: async (f) => {
      const record = await nextRecord(f);
      const plate = f.plates.get(f.car) as Wallet;
      const signature = await signRecord(plate, ledgerDomain(chainId, await f.ledger.getAddress()), f.car, record);
      return append(f, encodeBatch([{ vehicleId: f.car, record, trust: TrustLevel.PlateSigned, signature }]));
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerWrongSigner",
    args: (f) => [f.car, anyValue, (f.plates.get(f.car) as Wallet).address],
  })),
  fc.integer({ min: 0, max: 64 }).map((kept): Hostile => ({
    label: `plate-signed record with ${kept} signature bytes`,
    send: async (f) => {
      const record = await nextRecord(f);
      const wire = encodeRecord(f.car, record, TrustLevel.PlateSigned);
      return append(f, concat([wire, new Uint8Array(kept).fill(1)]));
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerMalformedRecords",
    args: () => [0, RECORD_SIZE + kept],
  })),
  fc.constant<Hostile>({
    label: "a valid record, then a bad one: nothing of the batch is kept",
    send: async (f) => {
      const good = await nextRecord(f);
      const bad = { ...good, periodStart: good.periodEnd, periodEnd: good.periodEnd + 1, drivingSeconds: 0, speedingSeconds: 0, dataHash: ZeroHash };
      return append(f, encodeBatch([
        { vehicleId: f.car, record: good, trust: TrustLevel.ReporterAsserted },
        { vehicleId: f.car, record: bad, trust: TrustLevel.ReporterAsserted },
      ]));
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerInvalidDataHash",
    args: (f) => [f.car],
  }),
  fc.constant<Hostile>({
    label: "consent to the zero address",
    send: async (f) => f.ledger.connect(f.accounts.owner).grantConsent(f.car, ZeroAddress, (await now()) + DAY),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerInvalidInsurer",
    args: () => [ZeroAddress],
  }),
  fc.bigInt({ min: 0n, max: 1_000_000n }).map((back): Hostile => ({
    label: `consent expiring ${back}s in the past`,
    send: async (f) => {
      const expiry = (await now()) - back;
      return f.ledger.connect(f.accounts.owner).grantConsent(f.car, f.accounts.stranger.address, expiry);
    },
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerInvalidConsentExpiry",
    args: () => [anyValue, anyValue],
  })),
  outsider.map((caller): Hostile => ({
    label: `consent granted by ${caller}, who does not own the car`,
    send: async (f) => f.ledger.connect(f.accounts[caller]).grantConsent(f.car, f.accounts[caller].address, (await now()) + DAY),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerNotVehicleOwner",
    args: (f) => [f.car, f.accounts[caller].address, f.accounts.owner.address],
  })),
  unknownVehicle.map((vehicleId): Hostile => ({
    label: `consent for unknown vehicle ${vehicleId}`,
    send: async (f) => f.ledger.connect(f.accounts.owner).grantConsent(vehicleId, f.accounts.insurer.address, (await now()) + DAY),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerUnknownVehicle",
    args: () => [vehicleId],
  })),
  fc.constant<Hostile>({
    label: "revocation of a consent never given",
    send: (f) => f.ledger.connect(f.accounts.owner).revokeConsent(f.car, f.accounts.stranger.address),
    refusedBy: ledgerError,
    error: "DrivingRecordLedgerNoConsent",
    args: (f) => [f.car, f.accounts.stranger.address],
  }),
);

describe("Hostile calls", function () {
  const groups = ["deposits", "withdrawals", "cancellations", "revenue", "disputes", "gantry administration", "calls without the role", "registry", "ledger"];

  after(function () {
    const total = groups.reduce((sum, group) => sum + (tally.get(group) ?? 0), 0);
    console.log(`      (${total} hostile calls tried in ${groups.length} groups)`);
  });

  it("deposits of zero, for unknown vehicles, beyond the allowance, overflowing a balance", async function () {
    await refusedProperty("deposits", deposits, 80);
  });

  it("withdrawals without a request, by others, too early, too late, to zero, of zero, beyond the balance, after a sale", async function () {
    await refusedProperty("withdrawals", withdrawals, 100);
  });

  it("cancellations of requests never made, or by someone with no say over the vehicle", async function () {
    await refusedProperty("cancellations", cancellations, 30);
  });

  it("releases of unknown, released or still-disputable batches; claims of nothing or to zero", async function () {
    await refusedProperty("revenue", revenue, 60);
  });

  it("disputes with forged leaves, past the leaves, after the window, twice, of unknown batches; resolutions of nothing", async function () {
    await refusedProperty("disputes", disputes, 70);
  });

  it("gantry registrations, tariffs, oracle keys and pauses that make no sense", async function () {
    await refusedProperty("gantry administration", administration, 90);
  });

  it("every role-gated function called by accounts without the role", async function () {
    await refusedProperty("calls without the role", withoutRole, 100);
  });

  it("registrations, status changes, rotations and transfers the registry must refuse", async function () {
    await refusedProperty("registry", registryInputs, 120);
  });

  it("records, plate signatures and consents the ledger must refuse", async function () {
    await refusedProperty("ledger", ledgerInputs, 160);
  });
});
