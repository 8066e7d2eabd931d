/**
 * What the CLI takes from Hardhat: the network's RPC endpoint and accounts, and secrets through Hardhat's
 * configuration variables (the encrypted keystore, then the environment). The relayer library itself knows nothing
 * of Hardhat; in-process callers pass their own provider and signers.
 */
import { FetchRequest, HDNodeWallet, JsonRpcProvider, Network, Wallet } from "ethers";
import { configVariable } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { ConfigError } from "./config.js";
import type { SecretResolver } from "./keys.js";

/** Chain ids of local development nodes (Hardhat, Anvil, Ganache): the only chains where the relayer may pay gas
 * from the node's first account without being told to. */
export const LOCAL_CHAIN_IDS: ReadonlySet<bigint> = new Set([31337n, 1337n]);
/** The mnemonic every `hardhat node` funds its accounts from (public by design). */
const HARDHAT_DEFAULT_MNEMONIC = "test test test test test test test test test test test junk";
/** An RPC request that takes longer is abandoned and retried: a healthy node answers in well under a second, and
 * ethers' default of five minutes would hide an outage. */
export const RPC_REQUEST_TIMEOUT_MS = 15_000;

export interface HardhatNetwork {
  readonly url: string;
  /** The network's configured accounts, for the local-network gas key default. */
  readonly firstAccount: () => Promise<Wallet | undefined>;
}

/** Looks up an http network in the Hardhat config; `rpcUrl` overrides its URL. */
export async function resolveNetwork(
  hre: HardhatRuntimeEnvironment,
  name: string,
  rpcUrl: string | undefined,
): Promise<HardhatNetwork> {
  const network = hre.config.networks[name];
  if (network === undefined) {
    const known = Object.keys(hre.config.networks).join(", ");
    throw new ConfigError("--network", `unknown network "${name}" (hardhat.config.ts has ${known})`);
  }
  if (network.type !== "http") {
    throw new ConfigError("--network", `"${name}" runs inside Hardhat's process; the relayer needs a node (localhost)`);
  }
  const url = rpcUrl ?? (await network.url.getUrl());
  const accounts = network.accounts;
  const firstAccount = async (): Promise<Wallet | undefined> => {
    if (accounts === "remote") return new Wallet(HDNodeWallet.fromPhrase(HARDHAT_DEFAULT_MNEMONIC).privateKey);
    if (Array.isArray(accounts)) {
      const first = accounts[0];
      return first === undefined ? undefined : new Wallet(await first.getHexString());
    }
    const path = `${accounts.path}/${accounts.initialIndex}`;
    const hd = HDNodeWallet.fromPhrase(await accounts.mnemonic.get(), await accounts.passphrase.get(), path);
    return new Wallet(hd.privateKey);
  };
  return { url, firstAccount };
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
  });
  return provider;
}

/** The gas key: the configured one, else on a local chain the network's first account (checked to be the node's). */
export async function resolveGasSigner(
  configured: Wallet | undefined,
  network: HardhatNetwork,
  chainId: bigint,
  nodeAccounts: () => Promise<readonly string[]>,
): Promise<Wallet> {
  if (configured !== undefined) return configured;
  if (!LOCAL_CHAIN_IDS.has(chainId)) {
    throw new ConfigError("RELAYER_PRIVATE_KEY", `is required on chain ${chainId}: set the key that pays for gas`);
  }
  const wallet = await network.firstAccount();
  const accounts = (await nodeAccounts()).map((account) => account.toLowerCase());
  if (wallet === undefined || (accounts.length > 0 && !accounts.includes(wallet.address.toLowerCase()))) {
    throw new ConfigError("RELAYER_PRIVATE_KEY", "is not set and the node's first account is not one the relayer knows");
  }
  return wallet;
}

/** Resolves secrets as Hardhat's `configVariable` does: the environment first, then the keystore. */
export function hardhatSecretResolver(hre: HardhatRuntimeEnvironment): SecretResolver {
  return async (name) => {
    const variable = configVariable(name, { default: "" });
    const value = await hre.hooks.runHandlerChain(
      "configurationVariables",
      "fetchValue",
      [variable],
      async (_context, v) => process.env[v.name] ?? v.default ?? "",
    );
    const trimmed = value.trim();
    return trimmed === "" ? undefined : trimmed;
  };
}
