import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { Wallet, keccak256, parseEther, toUtf8Bytes } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { deployPlatechain, type PlatechainContracts } from "../deploy/deploy.js";
import type { DeployParams } from "../deploy/params.js";
import { InsurerClient, type VehicleReport } from "../insurer.js";
import { encodeBatch, ledgerDomain, signRecord, TrustLevel, type RecordSubmission } from "../ledger.js";
import type { DeploymentManifest } from "../manifest.js";
import { registerVehicle } from "../registry.js";
import { makeRelayerConfig } from "../relayer/config.js";
import { silentLogger } from "../relayer/logger.js";
import { runRelayer, type RelayerSummary } from "../relayer/relayer.js";
import { signPermit } from "../permit.js";
import { VehicleStatus } from "../vehicle.js";
import { type Fleet, type FleetDay, type Reading, SECONDS_PER_DAY, simulateDay, vinCommitmentOf } from "./model.js";
import type { ProgressBar } from "./progress.js";

/**
 * Plays a fleet model against the real system on any network connection: deploys the suite, registers the
 * vehicles and gantries, funds the accounts, relays every day's readings through the real relayer (one relayer per
 * operator, each with its own oracle and gas keys), appends the telematics records to the ledger, pays operators
 * out after the dispute window, and reads one vehicle's insurer report through the real reader.
 */

export interface FleetRunOptions {
  readonly connection: NetworkConnection;
  readonly networkName: string;
  readonly fleet: Fleet;
  /** Readings files, relayer journals and rejects go here. */
  readonly workDir: string;
  readonly progress?: ProgressBar;
}

export interface FleetRun {
  readonly contracts: PlatechainContracts;
  readonly manifest: DeploymentManifest;
  /** Vehicle id of each fleet vehicle, by index. */
  readonly vehicleIds: readonly bigint[];
  readonly days: readonly FleetDay[];
  readonly relayerRuns: readonly { operator: number; day: number; summary: RelayerSummary }[];
  readonly payouts: readonly { operator: number; claimed: bigint }[];
  readonly insurer: { readonly address: string; readonly report: VehicleReport };
  readonly recordsAppended: number;
}

const ACCOUNT_ETH = parseEther("10");
/** Reason code the regulator files with a theft report (an authority-defined code). */
const REASON_THEFT_REPORTED = 0x7e1;
/** Records per ledger transaction: a batch of 100 stays far under the gas cap and amortises the transaction cost. */
const RECORDS_PER_BATCH = 100;
/** Every tenth owner pays in through an app with an EIP-2612 permit instead of a fleet manager's transfer. */
const PERMIT_EVERY = 10;
/** Every twentieth record is signed by the vehicle's own plate key, ranking above a reporter's word. */
const PLATE_SIGNED_EVERY = 20;

export function fleetDeployParams(fleet: Fleet): DeployParams {
  const all = ["deployer"] as const;
  // Scans of the whole simulated period must still be fresh enough when relayed at its end.
  const maxScanAge = BigInt((fleet.params.days + 2) * SECONDS_PER_DAY);
  return {
    file: "(fleet simulation)",
    adminDelaySeconds: 0n,
    disputeWindowSeconds: 7n * BigInt(SECONDS_PER_DAY),
    withdrawalNoticeSeconds: maxScanAge,
    maxScanAgeSeconds: maxScanAge,
    stablecoin: "deploy",
    admin: "deployer",
    roles: { registrar: all, regulator: all, tollAdmin: all, arbiter: all, pauser: all, reporter: all },
  };
}

export async function runFleet(options: FleetRunOptions): Promise<FleetRun> {
  const { connection, fleet, progress } = options;
  await mkdir(options.workDir, { recursive: true });

  progress?.start("Deploying platechain", 1);
  const { contracts, manifest } = await deployPlatechain(connection, fleetDeployParams(fleet), {
    networkName: options.networkName,
  });
  progress?.tick();
  const world = await prepareFleet(connection, fleet, contracts, progress);

  const days: FleetDay[] = [];
  const relayerRuns: { operator: number; day: number; summary: RelayerSummary }[] = [];
  let recordsAppended = 0;
  for (let d = 0; d < fleet.params.days; d++) {
    const day = simulateDay(fleet, d);
    days.push(day);
    await startDay(world, day);
    progress?.start(`Day ${d + 1}: relaying ${day.readings.length} scans`, day.readings.length);
    const target = await relayTarget(contracts, world.chainId);
    relayerRuns.push(
      ...(await relayAllOperators(connection, options.networkName, fleet, target, world.wallets, {
        day: d,
        readings: day.readings,
        workDir: options.workDir,
        onRelayed: (count) => progress?.tick(count),
      })),
    );
    recordsAppended += await appendDayRecords(world, day);
    await makeDeposits(world, day, "end");
  }

  const payouts = await payOperators(connection, fleet, contracts, world.wallets, progress);
  const insurer = await insurerReport(connection, contracts, manifest, world.vehicleIds, days, world.wallets);
  progress?.stop();
  return { contracts, manifest, vehicleIds: world.vehicleIds, days, relayerRuns, payouts, insurer, recordsAppended };
}

/** A fleet set up on a deployment: accounts funded, gantries and vehicles registered, deposits approved. */
export interface FleetWorld {
  readonly connection: NetworkConnection;
  readonly fleet: Fleet;
  readonly contracts: PlatechainContracts;
  readonly chainId: bigint;
  /** The deployer, acting as registrar, regulator, toll admin, reporter and a fleet manager paying in. */
  readonly authority: string;
  readonly vehicleIds: readonly bigint[];
  readonly wallets: FleetWallets;
  readonly progress: ProgressBar | undefined;
}

/**
 * Sets a fleet up on an existing deployment whose first account holds the registrar, regulator, toll-admin and
 * reporter roles and the test stablecoin's minter role (what `fleetDeployParams` and the local parameters give).
 */
export async function prepareFleet(
  connection: NetworkConnection,
  fleet: Fleet,
  contracts: PlatechainContracts,
  progress?: ProgressBar,
): Promise<FleetWorld> {
  const [deployer] = await connection.ethers.getSigners();
  if (deployer === undefined) throw new Error("the network has no account to run the fleet from");
  const { registry, escrow, stablecoin } = contracts;
  if (stablecoin === undefined) throw new Error("the fleet needs the test stablecoin");
  const chainId = (await connection.ethers.provider.getNetwork()).chainId;
  const wallets = await fundAccounts(connection, fleet, progress);

  progress?.start("Registering gantries", fleet.gantries.length);
  for (const gantry of fleet.gantries) {
    const operator = fleet.operators[gantry.operator]!;
    const fees = gantry.tariff.slice(0, 5) as [bigint, bigint, bigint, bigint, bigint];
    await (await escrow.registerGantry(gantry.id, operator.payout, [operator.oracle], fees)).wait();
    progress?.tick();
  }

  progress?.start("Registering vehicles", fleet.vehicles.length);
  const vehicleIds: bigint[] = [];
  for (const vehicle of fleet.vehicles) {
    vehicleIds.push(
      await registerVehicle(registry, deployer, {
        owner: vehicle.owner,
        plate: vehicle.plate,
        vinCommitment: vinCommitmentOf(fleet, vehicle),
        vehicleClass: vehicle.vehicleClass,
      }),
    );
    progress?.tick();
  }
  await (await stablecoin.approve(await escrow.getAddress(), 2n ** 255n)).wait();
  return { connection, fleet, contracts, chainId, authority: deployer.address, vehicleIds, wallets, progress };
}

/** The morning of a day: thefts reported to the regulator, prepaid top-ups paid in. */
export async function startDay(world: FleetWorld, day: FleetDay): Promise<void> {
  for (const index of day.stolen) {
    const id = world.vehicleIds[index]!;
    await (await world.contracts.registry.setStatus(id, VehicleStatus.Stolen, REASON_THEFT_REPORTED)).wait();
  }
  await makeDeposits(world, day, "start");
}

/** Appends the day's telematics records in batches; every twentieth one signed by the vehicle's plate key. */
export async function appendDayRecords(world: FleetWorld, day: FleetDay): Promise<number> {
  const { ledger } = world.contracts;
  world.progress?.start(`Day ${day.day + 1}: appending driving records`, day.records.length);
  const domain = ledgerDomain(world.chainId, await ledger.getAddress());
  let appended = 0;
  for (let i = 0; i < day.records.length; i += RECORDS_PER_BATCH) {
    const submissions: RecordSubmission[] = [];
    for (const [offset, record] of day.records.slice(i, i + RECORDS_PER_BATCH).entries()) {
      const vehicleId = world.vehicleIds[record.vehicle]!;
      const body = {
        periodStart: record.periodStart,
        periodEnd: record.periodEnd,
        distanceMeters: record.distanceMeters,
        drivingSeconds: record.drivingSeconds,
        harshBrakingCount: record.harshBrakings,
        harshAccelerationCount: record.harshAccelerations,
        speedingSeconds: record.speedingSeconds,
        nightDistanceMeters: record.nightDistanceMeters,
        dataHash: record.tripDataHash,
        corrects: 0,
      };
      const plate = world.wallets.plates[record.vehicle]!;
      submissions.push(
        (i + offset) % PLATE_SIGNED_EVERY === 0
          ? { vehicleId, record: body, trust: TrustLevel.PlateSigned, signature: await signRecord(plate, domain, vehicleId, body) }
          : { vehicleId, record: body, trust: TrustLevel.ReporterAsserted },
      );
    }
    await (await ledger.appendRecords(encodeBatch(submissions))).wait();
    appended += submissions.length;
    world.progress?.tick(submissions.length);
  }
  return appended;
}

export interface FleetWallets {
  readonly owners: readonly Wallet[];
  readonly plates: readonly Wallet[];
  readonly oracles: readonly Wallet[];
  readonly relayers: readonly Wallet[];
  readonly payouts: readonly Wallet[];
  readonly insurer: Wallet;
}

function walletsOf(connection: NetworkConnection, fleet: Fleet): FleetWallets {
  const provider = connection.ethers.provider;
  const wallet = (key: string) => new Wallet(key, provider);
  return {
    owners: fleet.vehicles.map((v) => wallet(v.ownerKey)),
    plates: fleet.vehicles.map((v) => wallet(v.plateKey)),
    oracles: fleet.operators.map((o) => wallet(o.oracleKey)),
    relayers: fleet.operators.map((o) => wallet(o.relayerKey)),
    payouts: fleet.operators.map((o) => wallet(o.payoutKey)),
    insurer: wallet(keccak256(toUtf8Bytes(`platechain fleet insurer ${fleet.params.seed}`))),
  };
}

async function fundAccounts(connection: NetworkConnection, fleet: Fleet, progress?: ProgressBar): Promise<FleetWallets> {
  const wallets = walletsOf(connection, fleet);
  // Owners sign permits and grant consent; relayers pay gas; payees claim. Only they need ether.
  const needGas = [
    ...wallets.owners.filter((_, i) => i % PERMIT_EVERY === 0),
    ...wallets.relayers,
    ...wallets.payouts,
  ];
  progress?.start("Funding accounts", needGas.length + 1);
  const setBalance = connection.networkHelpers.setBalance;
  for (const account of needGas) {
    await setBalance(account.address, ACCOUNT_ETH);
    progress?.tick();
  }
  progress?.tick();
  return wallets;
}

/** Tops up the day's deposits: most from the authority's account as a fleet manager, some by owners with a permit. */
export async function makeDeposits(world: FleetWorld, day: FleetDay, when: "start" | "end"): Promise<void> {
  const deposits = day.deposits.filter((d) => d.when === when);
  if (deposits.length === 0) return;
  const label = when === "start" ? `Day ${day.day + 1}: prepaid top-ups` : `Day ${day.day + 1}: late top-ups`;
  world.progress?.start(label, deposits.length);
  const { escrow, stablecoin } = world.contracts;
  const token = stablecoin!;
  const escrowAddress = await escrow.getAddress();
  const total = deposits.reduce((sum, d) => sum + d.amount, 0n);
  await (await token.mint(world.authority, total)).wait();
  for (const deposit of deposits) {
    const vehicleId = world.vehicleIds[deposit.vehicle]!;
    if (deposit.vehicle % PERMIT_EVERY === 0) {
      const owner = world.wallets.owners[deposit.vehicle]!;
      await (await token.transfer(owner.address, deposit.amount)).wait();
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600 + world.fleet.params.days * SECONDS_PER_DAY);
      const { v, r, s } = await signPermit(token, world.chainId, owner, escrowAddress, deposit.amount, deadline);
      await (await escrow.connect(owner).depositWithPermit(vehicleId, deposit.amount, deadline, v, r, s)).wait();
    } else {
      await (await escrow.deposit(vehicleId, deposit.amount)).wait();
    }
    world.progress?.tick();
  }
}

interface RelayTarget {
  readonly chainId: bigint;
  readonly registry: string;
  readonly escrow: string;
}

async function relayTarget(contracts: PlatechainContracts, chainId: bigint): Promise<RelayTarget> {
  return { chainId, registry: await contracts.registry.getAddress(), escrow: await contracts.escrow.getAddress() };
}

/**
 * Runs every operator's relayer over its gantries' readings of one day, side by side as they run in the field:
 * each with its own oracle key, gas key and journal.
 */
async function relayAllOperators(
  connection: NetworkConnection,
  networkName: string,
  fleet: Fleet,
  target: RelayTarget,
  wallets: FleetWallets,
  job: { day: number; readings: readonly Reading[]; workDir: string; onRelayed?: (count: number) => void },
): Promise<{ operator: number; day: number; summary: RelayerSummary }[]> {
  return Promise.all(
    fleet.operators.map(async (operator) => {
      const gantryIds = new Set(fleet.gantries.filter((g) => g.operator === operator.index).map((g) => g.id));
      const readings = job.readings.filter((r) => gantryIds.has(r.gantry));
      const dir = path.join(job.workDir, `operator-${operator.index}`);
      await mkdir(dir, { recursive: true });
      const input = path.join(dir, `day-${job.day}.ndjson`);
      await writeFile(input, readings.map((r) => JSON.stringify(r)).join("\n") + (readings.length > 0 ? "\n" : ""));
      const config = makeRelayerConfig({
        network: networkName,
        input,
        journalPath: path.join(dir, "journal.sqlite"),
        rejectsPath: path.join(dir, "rejects.ndjson"),
        // The whole day's file is read at once; batches fill by size, and the end of input flushes the rest.
        maxWaitMs: 2_000,
        pollIntervalMs: 10,
        progressIntervalMs: 3_600_000,
      });
      const oracle = wallets.oracles[operator.index]!;
      const summary = await runRelayer({
        config,
        provider: connection.ethers.provider,
        gasSigner: wallets.relayers[operator.index]!,
        oracleSigners: new Map([...gantryIds].map((id) => [id, oracle])),
        contracts: target,
        logger: silentLogger,
      });
      job.onRelayed?.(readings.length);
      return { operator: operator.index, day: job.day, summary };
    }),
  );
}

/**
 * Relays day 0 of a finished run again through fresh relayers and journals, as operators restoring from an empty
 * disk would: the escrow must skip every scan as already settled. Returns how many readings the relayers resent.
 */
export async function relayAgain(
  connection: NetworkConnection,
  networkName: string,
  fleet: Fleet,
  run: FleetRun,
  workDir: string,
): Promise<number> {
  const chainId = (await connection.ethers.provider.getNetwork()).chainId;
  const runs = await relayAllOperators(connection, networkName, fleet, await relayTarget(run.contracts, chainId), walletsOf(connection, fleet), {
    day: 0,
    readings: run.days[0]!.readings,
    workDir,
  });
  return runs.reduce((sum, r) => sum + r.summary.accepted, 0);
}

async function payOperators(
  connection: NetworkConnection,
  fleet: Fleet,
  contracts: PlatechainContracts,
  wallets: FleetWallets,
  progress?: ProgressBar,
): Promise<{ operator: number; claimed: bigint }[]> {
  const { escrow } = contracts;
  const batches = Number(await escrow.totalBatches());
  progress?.start("Dispute window passes; paying operators", batches + fleet.operators.length);
  await connection.networkHelpers.time.increase(Number(await escrow.disputeWindow()) + 1);
  const ids = Array.from({ length: batches }, (_, i) => BigInt(i + 1));
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    await (await escrow.releaseRevenue(chunk)).wait();
    progress?.tick(chunk.length);
  }
  const payouts: { operator: number; claimed: bigint }[] = [];
  for (const operator of fleet.operators) {
    const payee = wallets.payouts[operator.index]!;
    const claimable = await escrow.claimable(payee.address);
    if (claimable > 0n) await (await escrow.connect(payee).claimRevenue(payee.address)).wait();
    payouts.push({ operator: operator.index, claimed: claimable });
    progress?.tick();
  }
  return payouts;
}

async function insurerReport(
  connection: NetworkConnection,
  contracts: PlatechainContracts,
  manifest: DeploymentManifest,
  vehicleIds: readonly bigint[],
  days: readonly FleetDay[],
  wallets: FleetWallets,
): Promise<{ address: string; report: VehicleReport }> {
  // The insurer looks at the vehicle that drove furthest: the most interesting report.
  const distance = new Map<number, number>();
  for (const day of days) for (const r of day.records) distance.set(r.vehicle, (distance.get(r.vehicle) ?? 0) + r.distanceMeters);
  const [index] = [...distance.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [0];
  const owner = wallets.owners[index]!;
  const provider = connection.ethers.provider;
  if ((await provider.getBalance(owner.address)) === 0n) await connection.networkHelpers.setBalance(owner.address, ACCOUNT_ETH);
  const latest = await provider.getBlock("latest");
  const policyEnd = (latest?.timestamp ?? 0) + 365 * SECONDS_PER_DAY;
  await (await contracts.ledger.connect(owner).grantConsent(vehicleIds[index]!, wallets.insurer.address, policyEnd)).wait();
  const client = await InsurerClient.fromManifest(provider, manifest);
  const report = await client.report(String(vehicleIds[index]!), { insurer: wallets.insurer.address });
  return { address: wallets.insurer.address, report };
}
