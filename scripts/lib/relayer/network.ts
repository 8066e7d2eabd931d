/**
 * What the CLI takes from Hardhat: the network's RPC endpoint and accounts, and secrets through Hardhat's
 * configuration variables (the encrypted keystore, then the environment). The relayer library itself knows nothing
 * of Hardhat; in-process callers pass their own provider and signers.
 */
import { FetchRequest, HDNodeWallet, JsonRpcProvider, Network, Wallet } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ConfigError } from "./config.js";
import { envResolver, type SecretResolver } from "./keys.js";

/** Chain ids of local development nodes (Hardhat, Anvil, Ganache): the only chains where the relayer may pay gas
 * from the node's first account without being told to. */
export const LOCAL_CHAIN_IDS: ReadonlySet<bigint> = new Set([31337n, 1337n]);
/** The mnemonic every `hardhat node` funds its accounts from (public by design). */
const HARDHAT_DEFAULT_MNEMONIC = "test test test test test test test test test test test junk";
/** An RPC request that takes longer is abandoned and retried: a healthy node answers in well under a second, and
 * ethers' default of five minutes would hide an outage. */
export const RPC_REQUEST_TIMEOUT_MS = 15_000;

/** Loads Hardhat (its config, plugins and keystore) the first time it is needed, and only then: a restart that
 * finds everything in its flags and environment skips that cost. */
export type HardhatLoader = () => Promise<HardhatRuntimeEnvironment>;

export function lazyHardhat(): HardhatLoader {
  let loading: Promise<HardhatRuntimeEnvironment> | undefined;
  return () => (loading ??= import("hardhat").then((module) => module.default));
}

/** The RPC endpoint: `rpcUrl` when given, else the URL of the http network `name` in the Hardhat config. */
export async function resolveRpcUrl(hardhat: HardhatLoader, name: string, rpcUrl: string | undefined): Promise<string> {
  if (rpcUrl !== undefined) return rpcUrl;
  return (await httpNetwork(hardhat, name)).url.getUrl();
}

/** The first account the Hardhat config gives network `name` (Hardhat's own mnemonic for "remote" accounts). */
export async function networkFirstAccount(hardhat: HardhatLoader, name: string): Promise<Wallet | undefined> {
  const accounts = (await httpNetwork(hardhat, name)).accounts;
  if (accounts === "remote") return new Wallet(HDNodeWallet.fromPhrase(HARDHAT_DEFAULT_MNEMONIC).privateKey);
  if (Array.isArray(accounts)) {
    const first = accounts[0];
    return first === undefined ? undefined : new Wallet(await first.getHexString());
  }
  const path = `${accounts.path}/${accounts.initialIndex}`;
  const hd = HDNodeWallet.fromPhrase(await accounts.mnemonic.get(), await accounts.passphrase.get(), path);
  return new Wallet(hd.privateKey);
}

async function httpNetwork(hardhat: HardhatLoader, name: string) {
  const hre = await hardhat();
  const network = hre.config.networks[name];
  if (network === undefined) {
    const known = Object.keys(hre.config.networks).join(", ");
    throw new ConfigError("--network", `unknown network "${name}" (hardhat.config.ts has ${known})`);
  }
  if (network.type !== "http") {
    throw new ConfigError("--network", `"${name}" runs inside Hardhat's process; the relayer needs a node (localhost)`);
  }
  return network;
}

/** A JSON-RPC provider pinned to `chainId` (no network detection loop while a node is down). */
export function createProvider(url: string, chainId: bigint, pollingIntervalMs: number): JsonRpcProvider {
  const request = new FetchRequest(url);
  request.timeout = RPC_REQUEST_TIMEOUT_MS;
  const provider = new JsonRpcProvider(request, Network.from(chainId), {
    staticNetwork: true,
    pollingInterval: pollingIntervalMs,
    // No response cache: a receipt polled a moment ago must not hide one mined since.
    cacheTimeout: -1,
    // Calls made in the same tick still share one HTTP request, but none waits ethers' default 10 ms for company:
    // the relayer makes its calls one after another, so that wait would bound it to ~100 calls a second.
    batchStallTime: 0,
  });
  return provider;
}

/** The gas key: the configured one, else on a local chain the network's first account (checked to be the node's). */
export async function resolveGasSigner(
  configured: Wallet | undefined,
  firstAccount: () => Promise<Wallet | undefined>,
  chainId: bigint,
  nodeAccounts: () => Promise<readonly string[]>,
): Promise<Wallet> {
  if (configured !== undefined) return configured;
  if (!LOCAL_CHAIN_IDS.has(chainId)) {
    throw new ConfigError("RELAYER_PRIVATE_KEY", `is required on chain ${chainId}: set the key that pays for gas`);
  }
  const wallet = await firstAccount();
  const accounts = (await nodeAccounts()).map((account) => account.toLowerCase());
  if (wallet === undefined || (accounts.length > 0 && !accounts.includes(wallet.address.toLowerCase()))) {
    throw new ConfigError(
      "RELAYER_PRIVATE_KEY",
      "is not set and the node's first account is not one the relayer knows",
    );
  }
  return wallet;
}

const ORACLE_VARIABLES: ReadonlySet<string> = new Set(["ORACLE_KEYS", "ORACLE_PRIVATE_KEY", "ORACLE_GANTRIES"]);

/**
 * Secrets as Hardhat's `configVariable` resolves them: the environment first, then Hardhat's keystore. The oracle
 * keys count as configured by the environment when it sets ORACLE_KEYS or ORACLE_PRIVATE_KEY: the keystore is then
 * not asked for the other oracle variables (nor loaded, when nothing else needs it).
 */
export function cliSecretResolver(
  env: Readonly<Record<string, string | undefined>>,
  hardhat: HardhatLoader,
): SecretResolver {
  const fromEnv = envResolver(env);
  return async (name) => {
    const value = await fromEnv(name);
    if (value !== undefined) return value;
    if (ORACLE_VARIABLES.has(name)) {
      const oracleInEnv =
        (await fromEnv("ORACLE_KEYS")) !== undefined || (await fromEnv("ORACLE_PRIVATE_KEY")) !== undefined;
      if (oracleInEnv) return undefined;
    }
    return keystoreValue(await hardhat(), name);
  };
}

/** A variable through Hardhat's configuration-variable hooks (the keystore plugin answers there). */
async function keystoreValue(hre: HardhatRuntimeEnvironment, name: string): Promise<string | undefined> {
  const { configVariable } = await import("hardhat/config");
  const variable = configVariable(name, { default: "" });
  const value = await hre.hooks.runHandlerChain(
    "configurationVariables",
    "fetchValue",
    [variable],
    async (_context, v) => process.env[v.name] ?? v.default ?? "",
  );
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}
