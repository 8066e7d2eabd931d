/**
 * Turns a failed call or transaction into a sentence an operator can act on: the custom error's name and its
 * arguments by name, enums by their names and role ids by their Solidity constants.
 */
import { Interface, isHexString } from "ethers";
import type { ErrorDescription, InterfaceAbi } from "ethers";

import { AdminError } from "./errors.js";
import { ENUM_NAMES_BY_INTERNAL_TYPE, roleConstantOf } from "./names.js";

/** One contract whose errors a revert may be decoded with. */
export interface RevertSource {
  readonly name: string;
  /** The contract's ABI as compiled (with `internalType`, which tells enums apart from plain integers). */
  readonly abi: InterfaceAbi;
}

interface AbiErrorInput {
  readonly name?: string;
  readonly type?: string;
  readonly internalType?: string;
}

interface AbiErrorEntry {
  readonly type?: string;
  readonly name?: string;
  readonly inputs?: readonly AbiErrorInput[];
}

/** How many levels of wrapped errors are searched for revert data (ethers and Hardhat nest two or three). */
const MAX_ERROR_DEPTH = 6;

/** The revert data (0x + selector + arguments) carried by an error from ethers or a Hardhat provider, if any. */
export function revertDataOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): string | undefined => {
    if (depth > MAX_ERROR_DEPTH || typeof value !== "object" || value === null || seen.has(value)) return undefined;
    seen.add(value);
    const record = value as Record<string, unknown>;
    const data = record.data;
    if (typeof data === "string" && isHexString(data) && data.length >= 10) return data;
    for (const key of ["data", "error", "info", "cause", "revert"]) {
      const found = visit(record[key], depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(error, 0);
}

/**
 * The revert `data` as `ContractName: ErrorName(arg: value, ...)`, trying each source in turn; undefined when none
 * of them declares the error.
 */
export function describeRevertData(data: string, sources: readonly RevertSource[]): string | undefined {
  for (const source of sources) {
    const iface = Interface.from(source.abi);
    let parsed: ErrorDescription | null;
    try {
      parsed = iface.parseError(data);
    } catch {
      parsed = null;
    }
    if (parsed === null) continue;
    if (parsed.name === "Error" && parsed.args.length === 1) return `${source.name}: ${String(parsed.args[0])}`;
    if (parsed.name === "Panic") return `${source.name}: Panic(0x${BigInt(parsed.args[0] as bigint).toString(16)})`;
    const inputs = errorInputs(source.abi, parsed.signature);
    const args = parsed.fragment.inputs.map((param, i) => {
      const label = param.name === "" ? `arg${i}` : param.name;
      return `${label}: ${formatValue(parsed.args[i], inputs[i])}`;
    });
    return `${source.name}: ${parsed.name}(${args.join(", ")})`;
  }
  return undefined;
}

/**
 * An {@link AdminError} for an error thrown while simulating or sending `action`: a decoded custom error when the
 * contract reverted with one, the provider's own message otherwise.
 */
export function explainFailure(error: unknown, action: string, sources: readonly RevertSource[]): AdminError {
  if (error instanceof AdminError) return error;
  const cause = error instanceof Error ? error : undefined;
  const data = revertDataOf(error);
  if (data !== undefined) {
    const described = describeRevertData(data, sources);
    if (described !== undefined) return new AdminError(`${action} was refused by ${described}`, cause);
    return new AdminError(`${action} reverted with data no platechain contract declares: ${data}`, cause);
  }
  const message = cause?.message ?? String(error);
  return new AdminError(`${action} failed: ${firstLine(message)}`, cause);
}

function errorInputs(abi: InterfaceAbi, signature: string): readonly AbiErrorInput[] {
  const entries: readonly unknown[] = typeof abi === "string" ? [] : (abi as readonly unknown[]);
  for (const entry of entries) {
    if (typeof entry !== "object" || entry === null) continue;
    const candidate = entry as AbiErrorEntry;
    if (candidate.type !== "error" || candidate.inputs === undefined) continue;
    const types = candidate.inputs.map((input) => input.type ?? "").join(",");
    if (`${candidate.name ?? ""}(${types})` === signature) return candidate.inputs;
  }
  return [];
}

function formatValue(value: unknown, input: AbiErrorInput | undefined): string {
  const names = input?.internalType === undefined ? undefined : ENUM_NAMES_BY_INTERNAL_TYPE[input.internalType];
  if (names !== undefined && typeof value === "bigint") return names[Number(value)] ?? value.toString();
  if (input?.type === "bytes32" && typeof value === "string") {
    const role = roleConstantOf(value);
    if (role !== undefined) return role;
  }
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map((item) => formatValue(item, undefined)).join(", ")}]`;
  return String(value);
}

function firstLine(message: string): string {
  const line = message.split("\n", 1)[0] ?? message;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
