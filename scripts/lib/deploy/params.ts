import { readFile } from "node:fs/promises";
import path from "node:path";

import { getAddress, isAddress } from "ethers";

/**
 * Per-network deployment parameters (`ignition/parameters/<network>.json`), validated once before anything is sent:
 * a wrong value fails the deploy with a message naming the file and the field, never half-way through.
 */

export const ROLE_NAMES = ["registrar", "regulator", "tollAdmin", "arbiter", "pauser", "reporter"] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** "deployer" stands for the account that runs the deployment. */
export type Holder = string | "deployer";

export interface DeployParams {
  readonly file: string;
  readonly adminDelaySeconds: bigint;
  readonly disputeWindowSeconds: bigint;
  readonly withdrawalNoticeSeconds: bigint;
  readonly maxScanAgeSeconds: bigint;
  /** "deploy" ships the test stablecoin (local networks and testnets only); otherwise the token's address. */
  readonly stablecoin: "deploy" | string;
  /** Who ends up holding DEFAULT_ADMIN_ROLE on every contract (handed over in two delayed steps). */
  readonly admin: Holder;
  readonly roles: Readonly<Record<RoleName, readonly Holder[]>>;
}

const DAY = 86_400n;
/** Bounds that catch unit mistakes (milliseconds for seconds) and uninitialised values. */
const DURATION_BOUNDS: Record<string, readonly [bigint, bigint]> = {
  adminDelaySeconds: [0n, 30n * DAY],
  disputeWindowSeconds: [60n, 90n * DAY],
  withdrawalNoticeSeconds: [60n, 90n * DAY],
  maxScanAgeSeconds: [60n, 365n * DAY],
};

/** What the shipped testnet parameter files hold until an operator fills in real holders. */
const PLACEHOLDER = "0x000000000000000000000000000000000000dEaD";

export class DeployParamsError extends Error {
  override name = "DeployParamsError";
}

export function parametersPath(projectRoot: string, network: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(network)) throw new DeployParamsError(`network name "${network}" is not a plain name`);
  return path.join(projectRoot, "ignition", "parameters", `${network}.json`);
}

export async function loadDeployParams(file: string): Promise<DeployParams> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new DeployParamsError(`cannot read deployment parameters ${file}: ${(error as Error).message}`);
  }
  return parseDeployParams(raw, file);
}

export function parseDeployParams(raw: unknown, file: string): DeployParams {
  const fail = (field: string, problem: string): never => {
    throw new DeployParamsError(`${file}: "${field}" ${problem}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("(root)", "must be a JSON object");
  const obj = raw as Record<string, unknown>;
  const known = new Set(["$comment", "admin", "stablecoin", "roles", ...Object.keys(DURATION_BOUNDS)]);
  for (const key of Object.keys(obj)) if (!known.has(key)) fail(key, "is not a known parameter");

  const duration = (field: string): bigint => {
    const value = obj[field];
    if (typeof value !== "number" && typeof value !== "string") return fail(field, "is missing (seconds)");
    if (!/^\d+$/.test(String(value))) return fail(field, `must be whole seconds, got ${JSON.stringify(value)}`);
    const seconds = BigInt(value);
    const [min, max] = DURATION_BOUNDS[field] ?? [0n, 0n];
    if (seconds < min || seconds > max) fail(field, `must be between ${min} and ${max} seconds, got ${seconds}`);
    return seconds;
  };
  const holder = (field: string, value: unknown): Holder => {
    if (value === "deployer") return "deployer";
    if (typeof value !== "string" || !isAddress(value)) return fail(field, `must be an address or "deployer"`);
    const address = getAddress(value);
    if (address === "0x0000000000000000000000000000000000000000") fail(field, "must not be the zero address");
    if (address === PLACEHOLDER) fail(field, "is still the placeholder 0x…dEaD: put the real holder's address here");
    return address;
  };

  const stablecoinRaw = obj.stablecoin;
  const stablecoin = stablecoinRaw === "deploy" ? "deploy" : holder("stablecoin", stablecoinRaw);
  if (stablecoin === "deployer") fail("stablecoin", `must be "deploy" or the token's address`);

  const rolesRaw = obj.roles;
  if (typeof rolesRaw !== "object" || rolesRaw === null) return fail("roles", "must be an object of role -> holders");
  const roleEntries = rolesRaw as Record<string, unknown>;
  for (const key of Object.keys(roleEntries)) {
    if (!(ROLE_NAMES as readonly string[]).includes(key)) fail(`roles.${key}`, `is not a role (${ROLE_NAMES.join(", ")})`);
  }
  const roles = Object.fromEntries(
    ROLE_NAMES.map((name) => {
      const list = roleEntries[name];
      if (!Array.isArray(list)) return fail(`roles.${name}`, "must be a list of holders (it may be empty)");
      return [name, list.map((item, i) => holder(`roles.${name}[${i}]`, item))];
    }),
  ) as Record<RoleName, Holder[]>;

  return {
    file,
    adminDelaySeconds: duration("adminDelaySeconds"),
    disputeWindowSeconds: duration("disputeWindowSeconds"),
    withdrawalNoticeSeconds: duration("withdrawalNoticeSeconds"),
    maxScanAgeSeconds: duration("maxScanAgeSeconds"),
    stablecoin,
    admin: holder("admin", obj.admin),
    roles,
  };
}

/** Replaces "deployer" by the deploying account's address. */
export function resolveHolder(holderValue: Holder, deployer: string): string {
  return holderValue === "deployer" ? getAddress(deployer) : holderValue;
}
