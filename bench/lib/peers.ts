/**
 * The peers measured in the same run as platechain: an OpenZeppelin ERC-20 transfer, an OpenZeppelin ERC-721 mint,
 * and the naive reference toll (bench/contracts/NaiveToll.sol), one transaction per scan.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { MaxUint256, Wallet, id } from "ethers";

import type { Fleet } from "../../scripts/lib/fleet/model.js";
import { VehicleClass } from "../../scripts/lib/vehicle.js";
import type { NaiveToll } from "../../typechain-types/index.js";
import { BENCH_START, gasOf } from "./world.js";
import type { RegistryWorld } from "./world.js";

export interface PeerGas {
  /** ERC-20 transfer between two accounts that already hold the token. */
  readonly erc20Transfer: number;
  /** ERC-20 transfer to an account that holds none yet. */
  readonly erc20TransferToNewHolder: number;
  /** ERC-721 mint of a new id to an account that holds none yet. */
  readonly erc721Mint: number;
  /** One scan charged by the naive reference toll, in its own transaction. */
  readonly naiveScan: number;
}

const TOKEN_UNIT = 1_000_000n;
const NAIVE_GANTRY = 1;
/** A fixed address, so the calldata (and its gas) is the same on every run. */
const NEW_HOLDER = new Wallet(id("platechain bench: new holder")).address;

/** Measures the peers. Needs the first two toll-paying vehicles of `fleet` registered in `world.registry`. */
export async function measurePeers(ethers: HardhatEthers, world: RegistryWorld, fleet: Fleet): Promise<PeerGas> {
  const [, , , holder, other] = await ethers.getSigners();
  if (holder === undefined || other === undefined) throw new Error("the benchmark needs at least 5 funded accounts");

  const erc20 = await ethers.deployContract("PeerERC20", [holder.address, 1_000_000n * TOKEN_UNIT]);
  await gasOf(erc20.connect(holder).transfer(other.address, TOKEN_UNIT));
  const erc20Transfer = await gasOf(erc20.connect(holder).transfer(other.address, TOKEN_UNIT));
  const erc20TransferToNewHolder = await gasOf(erc20.connect(holder).transfer(NEW_HOLDER, TOKEN_UNIT));

  const erc721 = await ethers.deployContract("PeerERC721");
  await gasOf(erc721.mint(other.address, 1n));
  const erc721Mint = await gasOf(erc721.mint(fleet.vehicles[0]?.owner ?? other.address, 2n));

  const naive = await ethers.deployContract("NaiveToll", [await world.registry.getAddress(), await erc20.getAddress()]);
  const operator = fleet.operators[0];
  const gantry = fleet.gantries[0];
  if (operator === undefined || gantry === undefined) throw new Error("the fleet has no operator or gantry");
  const tariff = [0, 1, 2, 3, 4, 5].map((c) => gantry.tariff[c] ?? 0n) as [
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  await naive.registerGantry(NAIVE_GANTRY, operator.oracle, operator.payout, tariff);
  await erc20.connect(holder).approve(await naive.getAddress(), MaxUint256);
  const [first, second] = tollPayingVehicleIds(fleet);
  for (const vehicleId of [first, second]) await naive.connect(holder).deposit(vehicleId, 100n * TOKEN_UNIT);

  const oracle = new Wallet(operator.oracleKey);
  // The first scan creates the operator's revenue slot; the second is the steady state a gantry lives in.
  await gasOf(naiveScan(naive, ethers, oracle, first, 1n));
  const naiveScanGas = await gasOf(naiveScan(naive, ethers, oracle, second, 2n));
  return { erc20Transfer, erc20TransferToNewHolder, erc721Mint, naiveScan: naiveScanGas };
}

/** Ids of the fleet's vehicles that pay tolls (emergency vehicles ride free), in registration order. */
export function tollPayingVehicleIds(fleet: Fleet): bigint[] {
  return fleet.vehicles.filter((v) => v.vehicleClass !== VehicleClass.Emergency).map((v) => BigInt(v.index + 1));
}

async function naiveScan(naive: NaiveToll, ethers: HardhatEthers, oracle: Wallet, vehicleId: bigint, sequence: bigint) {
  const { chainId } = await ethers.provider.getNetwork();
  const timestamp = BigInt(BENCH_START) - 60n;
  const signature = await oracle.signTypedData(
    { name: "platechain NaiveToll", version: "1", chainId, verifyingContract: await naive.getAddress() },
    {
      Scan: [
        { name: "gantryId", type: "uint32" },
        { name: "vehicleId", type: "uint256" },
        { name: "timestamp", type: "uint64" },
        { name: "sequence", type: "uint64" },
      ],
    },
    { gantryId: NAIVE_GANTRY, vehicleId, timestamp, sequence },
  );
  return naive.chargeScan(NAIVE_GANTRY, vehicleId, timestamp, sequence, signature);
}
