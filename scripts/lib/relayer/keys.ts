/**
 * The relayer's keys: the gantries' oracle keys, which sign scan batches, and the gas key, which pays for the
 * transactions (it may differ from the oracle keys: `submitScans` accepts any sender).
 *
 * Sources, looked up by name through a resolver (the CLI's reads Hardhat's keystore, then the environment):
 * - `ORACLE_KEYS`: `"<gantryId>:<0x private key>,..."`, one key per gantry (a key may serve several gantries);
 * - `ORACLE_PRIVATE_KEY` with `ORACLE_GANTRIES`: one key for the listed gantries, `"7,9,20-40"`;
 *   both forms may be combined, and an `ORACLE_KEYS` entry overrides the shared key for its gantry;
 * - `RELAYER_PRIVATE_KEY`: the gas key. Optional here; the CLI falls back to the network's first account on local
 *   networks only.
 * Error messages name the variable and the position of the bad entry, never the value.
 */
import { Wallet } from "ethers";

import { ConfigError } from "./config.js";

/** Returns the value of a named secret, or undefined when it is not set (an empty string counts as not set). */
export type SecretResolver = (name: string) => Promise<string | undefined>;

export interface RelayerKeys {
  /** Oracle key per gantry this operator runs. */
  readonly oracleSigners: ReadonlyMap<number, Wallet>;
  /** The gas key, when one was configured. */
  readonly gasSigner: Wallet | undefined;
}

export const KEY_VARIABLES = ["ORACLE_KEYS", "ORACLE_PRIVATE_KEY", "ORACLE_GANTRIES", "RELAYER_PRIVATE_KEY"] as const;

const UINT32_MAX = 0xffff_ffff;
/** A gantry range wider than this is almost certainly a typo, and would build a map of millions of entries. */
const MAX_GANTRIES = 100_000;

/** Reads and validates the keys; see the module comment for the variables. */
export async function loadRelayerKeys(resolve: SecretResolver): Promise<RelayerKeys> {
  const [keys, sharedKey, gantries, gasKey] = await Promise.all(KEY_VARIABLES.map(async (name) => resolve(name)));
  const oracleSigners = new Map<number, Wallet>();
  if (sharedKey !== undefined) {
    if (gantries === undefined) {
      throw new ConfigError("ORACLE_GANTRIES", "is required with ORACLE_PRIVATE_KEY: list the gantries it signs for");
    }
    const wallet = toWallet("ORACLE_PRIVATE_KEY", sharedKey);
    for (const gantryId of parseGantryList(gantries)) oracleSigners.set(gantryId, wallet);
  } else if (gantries !== undefined) {
    throw new ConfigError("ORACLE_GANTRIES", "is only used with ORACLE_PRIVATE_KEY, which is not set");
  }
  if (keys !== undefined) {
    for (const [gantryId, wallet] of parseOracleKeys(keys)) oracleSigners.set(gantryId, wallet);
  }
  if (oracleSigners.size === 0) {
    throw new ConfigError("ORACLE_KEYS", "no oracle key configured: set ORACLE_KEYS or ORACLE_PRIVATE_KEY");
  }
  const gasSigner = gasKey === undefined ? undefined : toWallet("RELAYER_PRIVATE_KEY", gasKey);
  return { oracleSigners, gasSigner };
}

/** A resolver over a plain environment object; empty strings count as unset. */
export function envResolver(env: Readonly<Record<string, string | undefined>>): SecretResolver {
  return async (name) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
}

/** Parses `"<gantryId>:<key>,..."`. */
export function parseOracleKeys(raw: string): Map<number, Wallet> {
  const result = new Map<number, Wallet>();
  const wallets = new Map<string, Wallet>();
  raw.split(",").forEach((entry, index) => {
    const where = `ORACLE_KEYS entry ${index + 1}`;
    const separator = entry.indexOf(":");
    if (separator < 0) throw new ConfigError(where, 'is not "<gantryId>:<private key>"');
    const gantryId = parseGantryId(where, entry.slice(0, separator).trim());
    if (result.has(gantryId)) throw new ConfigError(where, `gantry ${gantryId} is listed twice`);
    const key = entry.slice(separator + 1).trim();
    const wallet = wallets.get(key) ?? toWallet(where, key);
    wallets.set(key, wallet);
    result.set(gantryId, wallet);
  });
  return result;
}

/** Parses `"7,9,20-40"` into gantry ids. */
export function parseGantryList(raw: string): number[] {
  const ids = new Set<number>();
  raw.split(",").forEach((part, index) => {
    const where = `ORACLE_GANTRIES entry ${index + 1}`;
    const range = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (range === null) throw new ConfigError(where, `"${part}" is not a gantry id or a range "<from>-<to>"`);
    const from = parseGantryId(where, range[1]);
    const to = range[2] === undefined ? from : parseGantryId(where, range[2]);
    if (to < from) throw new ConfigError(where, `range ${from}-${to} runs backwards`);
    if (ids.size + (to - from) >= MAX_GANTRIES) throw new ConfigError(where, `more than ${MAX_GANTRIES} gantries`);
    for (let id = from; id <= to; id++) ids.add(id);
  });
  return [...ids];
}

function parseGantryId(where: string, raw: string): number {
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > UINT32_MAX) {
    throw new ConfigError(where, `"${raw}" is not a gantry id (0 to ${UINT32_MAX})`);
  }
  return Number(raw);
}

function toWallet(where: string, key: string): Wallet {
  const normalized = key.startsWith("0x") ? key : `0x${key}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(normalized)) throw new ConfigError(where, "is not a 32-byte hex private key");
  try {
    return new Wallet(normalized);
  } catch {
    // ethers' message would quote the key; say only what is wrong.
    throw new ConfigError(where, "is not a valid secp256k1 private key");
  }
}
