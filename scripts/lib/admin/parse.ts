/**
 * Pure parsers for the administration commands' flags. Each takes the flag's name (as the task declares it) and the
 * raw string, and either returns the typed value or throws an {@link AdminError} that names the flag and says what
 * is accepted. Nothing here touches the network, so every flag is checked before anything is sent.
 */
import { ZeroAddress, getAddress, isHexString } from "ethers";

import { AdminError, flagError, toKebabCase } from "./errors.js";
import { PAYING_CLASSES, canonicalName } from "./names.js";

export const UINT32_MAX = 2n ** 32n - 1n;
export const UINT256_MAX = 2n ** 256n - 1n;
/** The registry hands out ids as uint96. */
export const VEHICLE_ID_MAX = 2n ** 96n - 1n;
/** Timestamps the escrow stores are uint40; `2^40 - 1` means "no change scheduled". */
export const TIMESTAMP_LIMIT = 2n ** 40n - 1n;
/** Unix seconds past this (year 5138) are almost surely milliseconds typed by mistake. */
const MILLISECONDS_SUSPECT = 100_000_000_000n;

/** The value of a required flag; throws when it was not given or is blank. */
export function required(flag: string, value: string | undefined): string {
  if (value === undefined || value.trim() === "") throw flagError(flag, "is required");
  return value.trim();
}

/**
 * A checksummed (EIP-55) address that is not the zero address. All-lower-case or all-upper-case input carries no
 * checksum, so a mistyped character would go unnoticed: it is refused too.
 */
export function parseAddress(flag: string, value: string | undefined): string {
  const text = required(flag, value);
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) {
    throw flagError(flag, `must be a 0x-prefixed 20-byte address, got "${text}"`);
  }
  const body = text.slice(2);
  if (body === body.toLowerCase() || body === body.toUpperCase()) {
    if (/^0+$/.test(body)) throw flagError(flag, "must not be the zero address");
    throw flagError(
      flag,
      `must be written with its EIP-55 checksum (mixed case), got "${text}": copy the address from the wallet or ` +
        "document it comes from, so a mistyped character cannot go unnoticed",
    );
  }
  let address: string;
  try {
    address = getAddress(text);
  } catch {
    throw flagError(flag, `has an invalid EIP-55 checksum: "${text}" is mistyped or was altered`);
  }
  if (address === ZeroAddress) throw flagError(flag, "must not be the zero address");
  return address;
}

/** A comma-separated list of distinct checksummed addresses, at least one. */
export function parseAddressList(flag: string, value: string | undefined): string[] {
  const items = required(flag, value)
    .split(",")
    .map((item) => item.trim());
  if (items.some((item) => item === ""))
    throw flagError(flag, "has an empty entry: separate addresses by single commas");
  const addresses = items.map((item) => parseAddress(flag, item));
  const seen = new Set<string>();
  for (const address of addresses) {
    if (seen.has(address)) throw flagError(flag, `lists ${address} twice`);
    seen.add(address);
  }
  return addresses;
}

/** A whole number in decimal digits within [min, max]. */
export function parseInteger(flag: string, value: string | undefined, min: bigint, max: bigint): bigint {
  const text = required(flag, value);
  if (!/^\d+$/.test(text)) throw flagError(flag, `must be a whole number in decimal digits, got "${text}"`);
  const number = BigInt(text);
  if (number < min || number > max) throw flagError(flag, `must be between ${min} and ${max}, got ${number}`);
  return number;
}

/** A vehicle id as the registry hands them out: 1 to 2^96 - 1. */
export function parseVehicleId(flag: string, value: string | undefined): bigint {
  return parseInteger(flag, value, 1n, VEHICLE_ID_MAX);
}

/** A gantry id: any uint32. */
export function parseGantryId(flag: string, value: string | undefined): number {
  return Number(parseInteger(flag, value, 0n, UINT32_MAX));
}

/**
 * One of `choices` by name, matched case-insensitively (`_` and spaces read as `-`); the error lists every valid
 * name.
 */
export function parseChoice<T>(flag: string, value: string | undefined, choices: Readonly<Record<string, T>>): T {
  const text = required(flag, value);
  const key = canonicalName(text);
  if (Object.hasOwn(choices, key)) return choices[key] as T;
  throw flagError(flag, `must be one of ${Object.keys(choices).join(", ")}; got "${text}"`);
}

/** A 32-byte secret as 0x-prefixed hex; the error never repeats the value. */
export function parseSecret32(flag: string, value: string | undefined, source: string): string {
  if (value === undefined || value.trim() === "") {
    throw new AdminError(
      `the VIN salt is required: pass --${toKebabCase(flag)} or set ${source} ` +
        "(the registrar's 32-byte secret, see vinCommitment in scripts/lib/registry.ts)",
    );
  }
  const text = value.trim();
  if (!isHexString(text, 32)) {
    throw new AdminError(
      `the VIN salt (--${toKebabCase(flag)} or ${source}) must be 32 bytes as 0x-prefixed hex (66 characters); ` +
        `what was given has ${text.length} characters and is not repeated here`,
    );
  }
  return text.toLowerCase();
}

/**
 * An amount of the token written in token units ("1.20"), converted to its smallest unit with the token's
 * `decimals`, exactly: no floating point, and more fraction digits than the token has are refused rather than
 * rounded.
 */
export function parseTokenAmount(flag: string, value: string, decimals: number): bigint {
  const text = value.trim();
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (match === null) {
    throw flagError(flag, `has "${text}", which is not an amount in token units such as 1.20 (digits, one dot)`);
  }
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) {
    throw flagError(flag, `has "${text}" with ${fraction.length} decimals, but the token has only ${decimals}`);
  }
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/**
 * The fee per paying class, either five amounts in class order (`motorcycle,car,van,truck,bus`) or all five named
 * (`car=1.20,motorcycle=0.60,...`), each in token units; every fee at most `maxFee` (smallest units).
 */
export function parseFees(flag: string, value: string | undefined, decimals: number, maxFee: bigint): bigint[] {
  const items = required(flag, value)
    .split(",")
    .map((item) => item.trim());
  const order = PAYING_CLASSES.join(",");
  if (items.length !== PAYING_CLASSES.length) {
    throw flagError(flag, `needs ${PAYING_CLASSES.length} fees (${order}), got ${items.length}`);
  }
  const named = items.every((item) => item.includes("="));
  if (!named && items.some((item) => item.includes("="))) {
    throw flagError(
      flag,
      `mixes named and positional fees: give all five as class=amount, or five amounts in the order ${order}`,
    );
  }
  const fees: bigint[] = new Array<bigint>(PAYING_CLASSES.length).fill(0n);
  const given = new Set<number>();
  items.forEach((item, position) => {
    let index = position;
    let amount = item;
    if (named) {
      const [name = "", text = ""] = item.split("=", 2);
      index = (PAYING_CLASSES as readonly string[]).indexOf(canonicalName(name));
      if (index < 0) throw flagError(flag, `names "${name.trim()}", which is not a paying class (${order})`);
      if (given.has(index)) throw flagError(flag, `gives the ${PAYING_CLASSES[index]} fee twice`);
      amount = text;
    }
    given.add(index);
    const fee = parseTokenAmount(flag, amount, decimals);
    if (fee > maxFee) {
      throw flagError(flag, `gives ${PAYING_CLASSES[index]} ${amount.trim()}, above the escrow's maximum fee`);
    }
    fees[index] = fee;
  });
  return fees;
}

/**
 * A point in time as unix seconds: either digits (unix seconds), a date `YYYY-MM-DD` (midnight UTC), or an ISO 8601
 * date-time with an explicit zone (`2026-03-01T06:00:00Z`, `2026-03-01T07:00+01:00`); a time without a zone would be
 * read in the machine's local zone, so it is refused.
 */
export function parseTimestamp(flag: string, value: string | undefined): bigint {
  const text = required(flag, value);
  const accepted = "unix seconds, YYYY-MM-DD (UTC) or an ISO date-time with a zone such as 2026-03-01T06:00:00Z";
  let seconds: bigint;
  if (/^\d+$/.test(text)) {
    seconds = BigInt(text);
    if (seconds >= MILLISECONDS_SUSPECT) {
      throw flagError(flag, `is ${text}, which looks like milliseconds: give unix seconds`);
    }
  } else {
    const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    const dateTime = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})$/.exec(text);
    const parts = dateOnly ?? dateTime;
    if (parts === null) throw flagError(flag, `must be ${accepted}; got "${text}"`);
    const millis = Date.parse(dateOnly !== null ? `${text}T00:00:00Z` : text);
    const [, year, month, day] = parts.map(Number);
    const calendar = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 0));
    if (Number.isNaN(millis) || calendar.getUTCMonth() !== (month ?? 0) - 1 || calendar.getUTCDate() !== day) {
      throw flagError(flag, `is not a real date: "${text}"`);
    }
    seconds = BigInt(Math.floor(millis / 1000));
  }
  if (seconds >= TIMESTAMP_LIMIT) throw flagError(flag, `is too far in the future (the limit is ${TIMESTAMP_LIMIT})`);
  return seconds;
}

/** Exactly one of two flags, e.g. `--uphold` / `--reject`; returns whether the first was given. */
export function parseEitherFlag(first: string, firstSet: boolean, second: string, secondSet: boolean): boolean {
  if (firstSet === secondSet) {
    throw new AdminError(`give exactly one of --${first} and --${second}`);
  }
  return firstSet;
}

/** An amount in the token's smallest units written in token units, with at least two decimals: "1.20". */
export function formatTokenAmount(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const unit = 10n ** BigInt(decimals);
  const whole = magnitude / unit;
  let fraction = decimals === 0 ? "" : (magnitude % unit).toString().padStart(decimals, "0").replace(/0+$/, "");
  if (decimals >= 2) fraction = fraction.padEnd(2, "0");
  return `${negative ? "-" : ""}${whole}${fraction === "" ? "" : `.${fraction}`}`;
}

/** Unix seconds as an ISO 8601 UTC date-time without milliseconds. */
export function formatTimestamp(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}
