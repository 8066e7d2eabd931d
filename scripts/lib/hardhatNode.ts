/**
 * A real `hardhat node` as a child process on a free loopback port, for the tests that talk to a node over JSON-RPC
 * and for the scale benchmark, which also reads the peak resident memory of the node's process tree and the CPU time
 * of its threads from /proc.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";

const require = createRequire(import.meta.url);
/** How long the node may take to answer its first request: a few seconds usually, far more on a busy machine. */
const START_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;
/** How long a stopped node gets to exit on SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;
/** Output kept for an error message: the node logs every request, so only the tail is worth keeping. */
const OUTPUT_TAIL_CHARS = 4_000;
/** The node's thread that executes every request against the chain (EDR's provider), one at a time. */
export const CHAIN_THREAD = "edr-provider";
/** /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 a second for user space. */
const USER_HZ = 100;

export interface HardhatNodeOptions {
  /** Turn the node's request log off once it answers: it logs and decodes every request, which costs time. */
  readonly quiet?: boolean;
  /** The node's environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the node runs, and so whose Hardhat and config it uses (default: the current directory). */
  readonly cwd?: string;
}

export interface HardhatNodeProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Peak resident memory (VmHWM) of the node and every process it started, summed, in bytes. */
  peakRssBytes(): number;
  /** CPU time (user + system) the node's threads have used so far, in seconds, summed by thread name (empty where
   * /proc is unavailable). Hardhat's chain runs on one thread, `edr-provider` ({@link CHAIN_THREAD}). */
  cpuSecondsByThread(): Map<string, number>;
  /** SIGTERM, then SIGKILL if the node has not exited within a few seconds; resolves once it has exited. */
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("the OS gave no free port");
  return address.port;
}

/** Times a node is started on a fresh port when another process took the port it was given first. */
const START_ATTEMPTS = 3;

/**
 * Spawns `hardhat node --hostname 127.0.0.1 --port <free port>` and waits until it answers JSON-RPC. The port is free
 * when chosen but may be taken before the node binds it: then the node exits, and a new port is tried.
 */
export async function startHardhatNode(options: HardhatNodeOptions = {}): Promise<HardhatNodeProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, await freePort());
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(options: HardhatNodeOptions, port: number): Promise<HardhatNodeProcess> {
  const cwd = options.cwd ?? process.cwd();
  // The CLI run by this Node directly, not through npx: the child is the node itself, so a kill reaches it.
  const child = spawn(process.execPath, [hardhatCli(cwd), "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = `http://127.0.0.1:${port}`;
  let tail = "";
  // Until the node says it listens, whatever answers on the port is some other process. Remembered apart from the
  // tail, which the account list printed next can push the line out of.
  let listening = false;
  // Drained all along: a full pipe would block the node.
  const keep = (chunk: Buffer): void => {
    const text = tail + chunk.toString();
    listening ||= text.includes(`JSON-RPC server at ${url}`);
    tail = text.slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  // Unhandled, a failed spawn would throw from the event emitter instead of failing this start.
  let failed: Error | undefined;
  child.once("error", (error) => (failed = error));
  // Never outlive the parent, even when it ends without running its test hooks or finally blocks.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(listening && (await answers(url)))) {
    if (failed !== undefined) throw new Error(`hardhat node did not start: ${failed.message}`);
    if (exited(child) || Date.now() > deadline) {
      await stop(child);
      if (/EADDRINUSE/.test(tail)) throw new PortTaken(`port ${port} was taken before hardhat node bound it`);
      throw new Error(`hardhat node did not answer at ${url} within ${START_TIMEOUT_MS} ms:\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error("hardhat node has no pid");
  if (options.quiet === true) await rpc(url, "hardhat_setLoggingEnabled", [false]);
  return {
    url,
    port,
    pid,
    peakRssBytes: () => treePeakRss(pid),
    cpuSecondsByThread: () => threadCpuSeconds(pid),
    stop: () => stop(child),
  };
}

/** The `hardhat` executable of the project's own Hardhat: the package exports no path to it, its bin names it. */
function hardhatCli(cwd: string): string {
  const manifestPath = require.resolve("hardhat/package.json", { paths: [cwd] });
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
    await rpc(url, "eth_chainId", []);
    return true;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stop(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await gone;
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
  for (const task of tasksOf(pid)) {
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

/** CPU seconds (user + system) of `pid`'s threads, summed by thread name (0 entries where /proc is unavailable). */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const task of tasksOf(pid)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // "tid (name) state ...": the name may hold spaces and parentheses, so split at the last ')'. utime and stime
    // are the 14th and 15th fields, the 12th and 13th after the name.
    const close = stat.lastIndexOf(")");
    const name = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (Number.isFinite(ticks)) byName.set(name, (byName.get(name) ?? 0) + ticks / USER_HZ);
  }
  return byName;
}

/** The thread ids of `pid` (none where /proc is unavailable or the process is gone). */
function tasksOf(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** Peak resident memory of this process so far (VmHWM), in bytes. */
export function ownPeakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
