/**
 * A `hardhat node` child process on a free loopback port for the scale benchmark, with the peak resident memory of
 * its process tree read from /proc.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";

const require = createRequire(import.meta.url);
/** How long the node may take to answer its first request. */
const START_TIMEOUT_MS = 60_000;
/** Output kept for an error message: the node logs every request, so only the tail is worth keeping. */
const OUTPUT_TAIL_CHARS = 4_000;

export interface HardhatNodeProcess {
  readonly url: string;
  readonly pid: number;
  /** Peak resident memory (VmHWM) of the node and every process it started, summed, in bytes. */
  peakRssBytes(): number;
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("the OS gave no free port");
  return address.port;
}

/** Spawns `hardhat node --hostname 127.0.0.1 --port <free port>` and waits until it answers JSON-RPC. */
export async function startHardhatNode(): Promise<HardhatNodeProcess> {
  const cli = hardhatCli();
  const port = await freePort();
  const child = spawn(process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  // Drained all along: a full pipe would block the node.
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop(child);
      throw new Error(`hardhat node did not start on port ${port}:\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error("hardhat node has no pid");
  // `hardhat node` logs and decodes every request; the benchmark measures the chain, not the node's console.
  await rpc(url, "hardhat_setLoggingEnabled", [false]);
  return { url, pid, peakRssBytes: () => treePeakRss(pid), stop: () => stop(child) };
}

/** The `hardhat` executable of the project's own Hardhat, from its package.json `bin`. */
function hardhatCli(): string {
  const manifestPath = require.resolve("hardhat/package.json", { paths: [process.cwd()] });
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: string | Record<string, string> };
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.hardhat;
  if (bin === undefined) throw new Error(`${manifestPath} names no hardhat executable`);
  return path.join(path.dirname(manifestPath), bin);
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message ?? "failed"}`);
  return body.result;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    return response.ok;
  } catch {
    return false;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Sum of VmHWM over `pid` and its descendants, in bytes (0 where /proc is unavailable). */
export function treePeakRss(pid: number): number {
  let total = 0;
  for (const id of [pid, ...descendants(pid)]) total += statusKilobytes(id, "VmHWM") * 1024;
  return total;
}

function descendants(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    let children: string;
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8");
    } catch {
      continue;
    }
    for (const child of children
      .split(" ")
      .filter((s) => s.trim() !== "")
      .map(Number)) {
      found.push(child, ...descendants(child));
    }
  }
  return found;
}

function statusKilobytes(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match?.[1] === undefined ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** Peak resident memory of this process so far (VmHWM), in bytes. */
export function ownPeakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
