/**
 * The benchmark's table: one row per figure with its measured value, its floor, the ratio, the peer measured in the
 * same run and whether its target is met. Printed as plain text and written as JSON and Markdown.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import type { Floor } from "./floor.js";

export interface PeerRef {
  readonly name: string;
  readonly value: number;
}

/** A target a row must meet; every bound given must hold. */
export interface Target {
  /** measured / floor at most this. */
  readonly maxFloorRatio?: number;
  /** peer / measured at least this (the figure is this many times cheaper than its peer). */
  readonly minPeerFactor?: number;
  /** measured at most this, in the row's unit. */
  readonly max?: number;
}

export interface Row {
  /** Stable key, also used by the gas snapshot: "scan.distinct.100". */
  readonly id: string;
  readonly section: string;
  readonly figure: string;
  /** What one measured value counts: "gas/scan", "gas", "s", "MB". */
  readonly unit: string;
  readonly measured: number | null;
  /** Gas of the whole measured transaction, when `measured` is a per-unit share of it (or the same value). */
  readonly receiptGas?: number;
  readonly floor: Floor | null;
  readonly peer: PeerRef | null;
  readonly target: Target | null;
  /** Why a value is missing, or what to know about it. */
  readonly note?: string;
}

export type Status = "PASS" | "MISS" | "" | "n/a";

export interface EvaluatedRow extends Row {
  /** The floor's value per unit of the row (per scan, per record, per transaction). */
  readonly floorValue: number | null;
  readonly floorRatio: number | null;
  readonly peerFactor: number | null;
  readonly status: Status;
  /** The bounds of the target that were missed, e.g. "x floor", "peer". */
  readonly missed: readonly string[];
}

export function evaluate(row: Row): EvaluatedRow {
  const floorValue = row.floor === null ? null : row.floor.perUnit;
  const floorRatio = row.measured === null || floorValue === null ? null : row.measured / floorValue;
  const peerFactor = row.measured === null || row.peer === null ? null : row.peer.value / row.measured;
  const missed = missedBounds(row, floorRatio, peerFactor);
  const status: Status = row.measured === null ? "n/a" : row.target === null ? "" : missed.length > 0 ? "MISS" : "PASS";
  return { ...row, floorValue, floorRatio, peerFactor, status, missed };
}

/** Which bounds of the row's target its measurement misses (none without a target or a measurement). */
function missedBounds(row: Row, floorRatio: number | null, peerFactor: number | null): string[] {
  if (row.target === null || row.measured === null) return [];
  const { maxFloorRatio, minPeerFactor, max } = row.target;
  const missed: string[] = [];
  if (maxFloorRatio !== undefined && (floorRatio === null || floorRatio > maxFloorRatio)) missed.push("x floor");
  if (minPeerFactor !== undefined && (peerFactor === null || peerFactor < minPeerFactor)) missed.push("vs peer");
  if (max !== undefined && row.measured > max) missed.push("max");
  return missed;
}

export function targetText(target: Target | null, peerName: string | undefined): string {
  if (target === null) return "";
  const parts: string[] = [];
  if (target.maxFloorRatio !== undefined) parts.push(`<= ${target.maxFloorRatio}x floor`);
  if (target.minPeerFactor !== undefined) parts.push(`>= ${target.minPeerFactor}x cheaper than ${peerName ?? "peer"}`);
  if (target.max !== undefined) parts.push(`<= ${formatNumber(target.max)}`);
  return parts.join(", ");
}

const HEADERS = [
  "Figure",
  "Unit",
  "Measured",
  "Floor",
  "x floor",
  "Peer (same run)",
  "Peer",
  "Peer / measured",
  "Target",
  "Result",
  "Note",
];

/** Measured, Floor, x floor, Peer, Peer / measured: right-aligned. */
const NUMERIC_COLUMNS = new Set([2, 3, 4, 6, 7]);

function cells(row: EvaluatedRow): string[] {
  return [
    row.figure,
    row.unit,
    row.measured === null ? "n/a" : formatNumber(row.measured),
    row.floorValue === null ? "" : formatNumber(row.floorValue),
    row.floorRatio === null ? "" : `${row.floorRatio.toFixed(2)}x`,
    row.peer?.name ?? "",
    row.peer === null ? "" : formatNumber(row.peer.value),
    row.peerFactor === null ? "" : `${row.peerFactor.toFixed(1)}x`,
    targetText(row.target, row.peer?.name),
    row.missed.length === 0 ? row.status : `${row.status} (${row.missed.join(", ")})`,
    row.note ?? "",
  ];
}

/** Integers with thousands separators; small fractional values keep one decimal. */
export function formatNumber(value: number): string {
  const digits = Math.abs(value) < 100 && !Number.isInteger(value) ? 1 : 0;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The table as aligned plain text, one block per section. */
export function renderText(rows: readonly EvaluatedRow[]): string {
  const table = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, c) => Math.max(...table.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, c) => (NUMERIC_COLUMNS.has(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();
  const out: string[] = [line(HEADERS), widths.map((w) => "-".repeat(w)).join("  ")];
  let section: string | undefined;
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      out.push(`${section}:`);
    }
    out.push(line(cells(row)));
  }
  return out.join("\n");
}

/** The table as GitHub Markdown, with a section column. */
export function renderMarkdown(rows: readonly EvaluatedRow[]): string {
  const escape = (cell: string): string => cell.replaceAll("|", "\\|");
  const align = HEADERS.map((_, c) => (NUMERIC_COLUMNS.has(c) ? "---:" : "---"));
  const out = [`| ${HEADERS.join(" | ")} |`, `| ${align.join(" | ")} |`];
  let section: string | undefined;
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      out.push(`| **${escape(section)}** |${" |".repeat(HEADERS.length - 1)}`);
    }
    out.push(`| ${cells(row).map(escape).join(" | ")} |`);
  }
  return out.join("\n");
}

export interface ResultFile {
  readonly name: string;
  readonly title: string;
  readonly rows: readonly EvaluatedRow[];
  readonly notes: readonly string[];
}

/** Writes `<name>.json` and `<name>.md` under `dir`; returns their paths. */
export async function writeResults(dir: string, file: ResultFile): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const environment = {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    totalMemoryMB: Math.round(os.totalmem() / 2 ** 20),
    hardfork: "osaka",
  };
  const json = {
    title: file.title,
    generatedAt: new Date().toISOString(),
    environment,
    notes: file.notes,
    rows: file.rows,
  };
  const jsonPath = path.join(dir, `${file.name}.json`);
  const mdPath = path.join(dir, `${file.name}.md`);
  await writeFile(jsonPath, JSON.stringify(json, null, 2) + "\n");
  const notes = file.notes.map((n) => `- ${n}`).join("\n");
  const markdown = `# ${file.title}\n\n${renderMarkdown(file.rows)}\n${notes === "" ? "" : `\n${notes}\n`}`;
  await writeFile(mdPath, markdown);
  return [jsonPath, mdPath];
}
