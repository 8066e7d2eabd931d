/**
 * Shared by the hostile-input tests: the system fixture with a {@link SystemLens}, a snapshot of everything the
 * contracts hold, and the tally of hostile inputs tried.
 */
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { Result } from "ethers";

import type { SystemLens } from "../../typechain-types/index.js";
import { UNDER_COVERAGE } from "../utils/coverage.js";

import { GANTRY, OTHER_GANTRY, deploySystem, type SystemFixture } from "./system.fixture.js";

export interface HostileFixture extends SystemFixture {
  readonly lens: SystemLens;
}

export async function deployHostile(ethers: HardhatEthers, helpers: NetworkHelpers): Promise<HostileFixture> {
  const f = await deploySystem(ethers, helpers);
  const lens = await ethers.deployContract("SystemLens", [
    await f.registry.getAddress(),
    f.escrowAddress,
    await f.ledger.getAddress(),
  ]);
  return { ...f, lens };
}

/** The sequences every snapshot checks on both gantries, besides those a test adds. */
const BASE_SEQUENCES = [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n];

const SNAPSHOT_FIELDS = [
  "escrowTokens",
  "tokenBalances",
  "claimable",
  "totalBatches",
  "pausedUntil",
  "totalVehicles",
  "vehicles",
  "batches",
  "gantries",
  "plateVehicles",
  "platesRevoked",
] as const;

/** Nested arrays of plain values, so chai can compare and diff them. */
function plain(value: unknown): unknown {
  if (value instanceof Result) return value.toArray().map(plain);
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/**
 * Everything observable in the system: token balances and claimable revenue of every account, each vehicle's
 * registry record, money, withdrawal request, debts, record chain and consents, each batch and its disputes, each
 * gantry's configuration and settled sequences, plate bindings. Keyed by field so a difference names its place.
 */
export async function snapshot(
  f: HostileFixture,
  extraSequences: readonly bigint[] = [],
): Promise<Record<string, unknown>> {
  const plates = [...f.plates.values()].map((wallet) => wallet.address);
  const state = await f.lens.snapshot({
    accounts: Object.values(f.accounts).map((signer) => signer.address),
    plates: [...plates, f.revokedPlate.address],
    insurers: [f.accounts.insurer.address, f.accounts.stranger.address],
    gantries: [GANTRY, OTHER_GANTRY],
    sequences: [...BASE_SEQUENCES, ...extraSequences],
    leavesPerBatch: 4,
  });
  const values = plain(state) as unknown[];
  return Object.fromEntries(SNAPSHOT_FIELDS.map((field, index) => [field, values[index]]));
}

/**
 * How many inputs a property tries: as asked, except under coverage, where a fifth of them reaches the same code
 * (the instrumented run only measures which code the tests reach; `npm test` runs them all).
 */
export function runs(asked: number): number {
  return UNDER_COVERAGE ? Math.max(5, Math.ceil(asked / 5)) : asked;
}

/** How many hostile inputs each group tried, for the summary and SECURITY.md. */
export const tally = new Map<string, number>();

export function record(group: string, runs: number): void {
  tally.set(group, (tally.get(group) ?? 0) + runs);
}

export function totalTried(): number {
  return [...tally.values()].reduce((sum, runs) => sum + runs, 0);
}

/** The floor on hostile inputs per `npm test`, over both hostile-input files. */
export const MIN_HOSTILE_INPUTS = 1_000;
/** Groups in hostileScans.test.ts (17) and hostileInputs.test.ts (9). */
const ALL_GROUPS = 26;

// A root-level hook (registered when a test file imports this module): after the whole run, the total, and the
// floor checked when both files ran in full.
after(function () {
  if (tally.size === 0) return;
  console.log(`\n  Hostile inputs tried: ${totalTried()} in ${tally.size} groups`);
  if (!UNDER_COVERAGE && tally.size === ALL_GROUPS) expect(totalTried()).to.be.at.least(MIN_HOSTILE_INPUTS);
});
