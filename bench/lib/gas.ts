/**
 * The gas part of the benchmark: deploys the suite and the peers on one in-process network, sends every measured
 * transaction and returns the table's rows with their floors.
 *
 * The order of deployments is fixed (and independent of how much is measured) so contract addresses, and with them
 * every signature and every byte of calldata, are the same in a full run and in the quick hot-path run.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { solidityPacked } from "ethers";

import { vinCommitmentOf } from "../../scripts/lib/fleet/model.js";
import type { Fleet } from "../../scripts/lib/fleet/model.js";
import {
  BATCH_SIZES,
  deployEscrowWorld,
  fundVehicles,
  measureDeposits,
  measureDispute,
  measureRevenue,
  measureScans,
} from "./escrow.js";
import { registerFloor } from "./floor.js";
import { measurePeers, tollPayingVehicleIds } from "./peers.js";
import type { PeerGas } from "./peers.js";
import { RECORD_BATCH, deployLedgerWorld, measureRecords } from "./records.js";
import type { Row } from "./report.js";
import { benchFleet, deployRegistryWorld, registerVehicles } from "./world.js";

export interface GasOptions {
  /** Only the hot paths of the gas snapshot (a quick run for `npm test` and `npm run bench:snapshot`). */
  readonly hotPathsOnly?: boolean;
  /** Progress lines, e.g. console.error; silent by default. */
  readonly log?: (message: string) => void;
}

/** The batch size of the hot path; the full run adds the others. */
const HOT_BATCH = 100;
/** The registration measured: the third, so the id counter exists; every fleet vehicle has its own owner. */
const REGISTER_SAMPLE = 2;
const TOKEN = 1_000_000n;

export async function measureGas(ethers: HardhatEthers, options: GasOptions = {}): Promise<Row[]> {
  const log = options.log ?? (() => undefined);
  const hot = options.hotPathsOnly === true;
  const fleet = benchFleet();

  const world = await deployRegistryWorld(ethers);
  const escrowWorld = await deployEscrowWorld(ethers, world, fleet);
  const ledgerWorld = await deployLedgerWorld(ethers, world);
  const sizes = hot ? [HOT_BATCH] : [...BATCH_SIZES];
  // The largest batch that fits the per-transaction cap is found by measuring: every toll-paying vehicle of the
  // benchmark fleet is registered for it (it holds about 1,800 scans of distinct vehicles).
  const largest = hot ? HOT_BATCH : tollPayingVehicleIds(fleet).length;

  const toRegister = vehiclesToRegister(fleet, largest, RECORD_BATCH + 1);
  log(`registering ${toRegister} vehicles`);
  const registrations = await registerVehicles(world, fleet, fleet.vehicles.slice(0, toRegister));
  const paying = tollPayingVehicleIds(fleet).filter((id) => id <= BigInt(toRegister));
  log(`funding ${paying.length} vehicles`);
  await fundVehicles(escrowWorld, paying, 1_000n * TOKEN);
  const repeatedVehicle = paying[0];
  if (repeatedVehicle === undefined) throw new Error("no toll-paying vehicle");
  await fundVehicles(escrowWorld, [repeatedVehicle], 100_000n * TOKEN);

  log("measuring peers");
  const peers = await measurePeers(ethers, world, fleet);
  const rows: Row[] = [registerRow(fleet, registrations, peers)];
  rows.push(
    ...(await measureScans(escrowWorld, fleet, paying, {
      sizes,
      repeated: !hot,
      fitCap: !hot,
      naiveScanGas: peers.naiveScan,
      log,
    })),
  );
  log("measuring records");
  rows.push(...(await measureRecords(ledgerWorld, fleet, hot)));
  log("measuring deposits");
  const [deposit, depositWithPermit] = await measureDeposits(escrowWorld, repeatedVehicle, peers);
  if (deposit !== undefined) rows.push(deposit);
  if (hot) return rows;
  if (depositWithPermit !== undefined) rows.push(depositWithPermit);
  log("measuring dispute, release and claim");
  rows.push(await measureDispute(ethers, escrowWorld, fleet, paying));
  rows.push(...(await measureRevenue(ethers, escrowWorld, fleet, repeatedVehicle, peers)));
  rows.push(...peerRows(peers));
  return rows;
}

/** How many fleet vehicles, in order, hold `paying` toll-paying ones and at least `atLeast` in all. */
function vehiclesToRegister(fleet: Fleet, paying: number, atLeast: number): number {
  const payingIds = tollPayingVehicleIds(fleet);
  const last = payingIds[paying - 1];
  if (last === undefined) throw new Error(`the benchmark fleet has fewer than ${paying} toll-paying vehicles`);
  return Math.max(Number(last), atLeast);
}

function registerRow(fleet: Fleet, registrations: readonly number[], peers: PeerGas): Row {
  const vehicle = fleet.vehicles[REGISTER_SAMPLE];
  const gas = registrations[REGISTER_SAMPLE];
  if (vehicle === undefined || gas === undefined) throw new Error("too few vehicles registered");
  const values = solidityPacked(
    ["address", "address", "bytes32", "uint8"],
    [vehicle.owner, vehicle.plate, vinCommitmentOf(fleet, vehicle), vehicle.vehicleClass],
  );
  return {
    id: "register",
    section: "Registry",
    figure: "Register a vehicle (new owner)",
    unit: "gas",
    measured: gas,
    receiptGas: gas,
    floor: registerFloor({ values, newOwner: true }),
    peer: { name: "OZ ERC-721 mint", value: peers.erc721Mint },
    target: null,
  };
}

/** The peers themselves, so the table shows what each comparison stands on. */
function peerRows(peers: PeerGas): Row[] {
  const row = (id: string, figure: string, measured: number): Row => ({
    id,
    section: "Peers (same run)",
    figure,
    unit: "gas",
    measured,
    floor: null,
    peer: null,
    target: null,
  });
  return [
    row("peer.erc20.transfer", "OZ ERC-20 transfer (to a holder)", peers.erc20Transfer),
    row("peer.erc20.transferNewHolder", "OZ ERC-20 transfer (to a new holder)", peers.erc20TransferToNewHolder),
    row("peer.erc721.mint", "OZ ERC-721 mint (new owner)", peers.erc721Mint),
    row("peer.naive.scan", "Naive toll: one scan per transaction", peers.naiveScan),
  ];
}
