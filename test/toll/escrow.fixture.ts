/**
 * Deployment and helpers the TollEscrow test files share: the real registry, the real test stablecoin, the real
 * escrow and real oracle signatures. No test-only doubles of platechain's own contracts.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { id, Wallet } from "ethers";
import type { ContractTransactionReceipt } from "ethers";

import type { TestStablecoin, TollEscrow, VehicleRegistry } from "../../typechain-types/index.js";
import { encodeScans, signScanBatch } from "../../scripts/lib/scans.js";
import type { Scan } from "../../scripts/lib/scans.js";
import { VehicleClass } from "../../scripts/lib/vehicle.js";

import {
  ADMIN_DELAY,
  DAY,
  DISPUTE_WINDOW,
  FEES,
  HOUR,
  MAX_SCAN_AGE,
  USD,
  WITHDRAWAL_NOTICE,
} from "../utils/constants.js";

export { ADMIN_DELAY, DAY, DISPUTE_WINDOW, FEES, HOUR, MAX_SCAN_AGE, USD, WITHDRAWAL_NOTICE };

export const GANTRY = 7;
export const OTHER_GANTRY = 8;
export const OTHER_FEES: [bigint, bigint, bigint, bigint, bigint] = [USD / 2n, USD, USD, 2n * USD, 2n * USD];

export interface EscrowFixture {
  ethers: HardhatEthers;
  registry: VehicleRegistry;
  token: TestStablecoin;
  escrow: TollEscrow;
  escrowAddress: string;
  chainId: bigint;
  admin: HardhatEthersSigner;
  tollAdmin: HardhatEthersSigner;
  arbiter: HardhatEthersSigner;
  pauser: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  otherOperator: HardhatEthersSigner;
  owner: HardhatEthersSigner;
  buyer: HardhatEthersSigner;
  payer: HardhatEthersSigner;
  relayer: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
  /** Oracle key of GANTRY. */
  oracle: Wallet;
  /** Oracle key of OTHER_GANTRY. */
  otherOracle: Wallet;
}

/** Deploys registry, stablecoin and escrow, grants every role, and registers GANTRY and OTHER_GANTRY. */
export async function deployEscrow(ethers: HardhatEthers): Promise<EscrowFixture> {
  const [admin, tollAdmin, arbiter, pauser, operator, otherOperator, owner, buyer, payer, relayer, stranger] =
    await ethers.getSigners();
  const registry = await ethers.deployContract("VehicleRegistry", [ADMIN_DELAY, admin.address]);
  await registry.grantRole(await registry.REGISTRAR_ROLE(), admin.address);
  await registry.grantRole(await registry.REGULATOR_ROLE(), admin.address);
  const token = await ethers.deployContract("TestStablecoin", [admin.address]);
  const escrow = await ethers.deployContract("TollEscrow", [
    await registry.getAddress(),
    await token.getAddress(),
    admin.address,
    DISPUTE_WINDOW,
    WITHDRAWAL_NOTICE,
    MAX_SCAN_AGE,
  ]);
  await escrow.grantRole(await escrow.TOLL_ADMIN_ROLE(), tollAdmin.address);
  await escrow.grantRole(await escrow.ARBITER_ROLE(), arbiter.address);
  await escrow.grantRole(await escrow.PAUSER_ROLE(), pauser.address);

  // Fixed keys, so runs are reproducible.
  const oracle = new Wallet(id("platechain test oracle of gantry 7"));
  const otherOracle = new Wallet(id("platechain test oracle of gantry 8"));
  await escrow.connect(tollAdmin).registerGantry(GANTRY, operator.address, [oracle.address], FEES);
  await escrow
    .connect(tollAdmin)
    .registerGantry(OTHER_GANTRY, otherOperator.address, [otherOracle.address], OTHER_FEES);

  const { chainId } = await ethers.provider.getNetwork();
  return {
    ethers,
    registry,
    token,
    escrow,
    escrowAddress: await escrow.getAddress(),
    chainId,
    admin,
    tollAdmin,
    arbiter,
    pauser,
    operator,
    otherOperator,
    owner,
    buyer,
    payer,
    relayer,
    stranger,
    oracle,
    otherOracle,
  };
}

let vinCounter = 0;

/** Registers a vehicle with a fresh plate key and VIN; returns its id. */
export async function registerVehicle(
  f: EscrowFixture,
  owner: HardhatEthersSigner,
  vehicleClass: VehicleClass = VehicleClass.Car,
): Promise<bigint> {
  vinCounter += 1;
  const plate = Wallet.createRandom().address;
  const vin = f.ethers.id(`VIN:${vinCounter}:${plate}`);
  await f.registry.registerVehicle(owner.address, plate, vin, vehicleClass);
  return f.registry.totalVehicles();
}

/** Mints `amount` to `payer`, approves the escrow and deposits it for the vehicle. */
export async function fund(f: EscrowFixture, vehicleId: bigint, amount: bigint, payer = f.payer): Promise<void> {
  await f.token.mint(payer.address, amount);
  await f.token.connect(payer).approve(f.escrowAddress, amount);
  await f.escrow.connect(payer).deposit(vehicleId, amount);
}

/** The latest block's timestamp. */
export async function now(f: EscrowFixture): Promise<bigint> {
  const block = await f.ethers.provider.getBlock("latest");
  if (block === null) throw new Error("no latest block");
  return BigInt(block.timestamp);
}

/** Encodes and signs a batch for `gantryId` with `oracle`. */
export async function signedBatch(
  f: EscrowFixture,
  gantryId: number,
  scans: readonly Scan[],
  oracle: Wallet = f.oracle,
): Promise<{ scansHex: string; signature: string }> {
  const scansHex = encodeScans(scans);
  const signature = await signScanBatch(oracle, f.escrowAddress, f.chainId, gantryId, scansHex);
  return { scansHex, signature };
}

/** Signs and submits a batch from the relayer account; returns the mined receipt. */
export async function submit(
  f: EscrowFixture,
  gantryId: number,
  scans: readonly Scan[],
  oracle: Wallet = f.oracle,
): Promise<ContractTransactionReceipt> {
  const { scansHex, signature } = await signedBatch(f, gantryId, scans, oracle);
  const tx = await f.escrow.connect(f.relayer).submitScans(gantryId, scansHex, signature);
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("submitScans was not mined");
  return receipt;
}
