/**
 * What the relayer's end-to-end tests need around the code under test, besides the `hardhat node` of
 * scripts/lib/hardhatNode.ts: a loopback TCP proxy that can drop the node off the network and bring it back, and the
 * oracle CLI run as a child process whose JSON log lines the test can watch.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";

const ORACLE_ENTRY = path.resolve("scripts/oracle.ts");

/** A loopback TCP proxy: {cut} drops every connection and stops listening; {restore} listens again. */
export class TcpProxy {
  readonly #target: number;
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  #port = 0;

  private constructor(target: number) {
    this.#target = target;
  }

  static async start(target: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.#listen(0);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The node is gone: connections are reset and new ones refused. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The node is back, on the same port. */
  async restore(): Promise<void> {
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    await this.cut();
  }

  async #listen(port: number): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    this.#port = address.port;
    this.#server = server;
  }
}

export interface LogLine {
  readonly at: string;
  readonly message: string;
  readonly level: string;
  readonly [field: string]: unknown;
}

export interface OracleRun {
  readonly child: ChildProcess;
  /** JSON log lines so far. */
  readonly lines: LogLine[];
  /** Everything the process wrote that was not a JSON log line (stderr included). */
  readonly otherOutput: () => string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Resolves when a log line matching `predicate` appears (or rejects when the process ends first). */
  waitFor(predicate: (line: LogLine) => boolean): Promise<LogLine>;
}

/** Runs `scripts/oracle.ts` as npm run oracle would, with `--json`, and collects its output. */
export function runOracle(args: readonly string[], env: Readonly<Record<string, string>>): OracleRun {
  const child = spawn(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", "--import", "tsx", ORACLE_ENTRY, "--json", ...args],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env, CI: "true" } },
  );
  const lines: LogLine[] = [];
  const watchers: Array<{ predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  let other = "";
  let partial = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    partial += chunk.toString();
    const complete = partial.split("\n");
    partial = complete.pop() ?? "";
    for (const text of complete) {
      const line = parseLogLine(text);
      if (line === undefined) {
        other += text + "\n";
        continue;
      }
      lines.push(line);
      for (const watcher of watchers.filter((w) => w.predicate(line))) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve(line);
      }
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => (other += chunk.toString()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("exit", (code, signal) => {
      process.removeListener("exit", killOnExit);
      resolve(code ?? signal ?? "SIGKILL");
    }),
  );
  const waitFor = (predicate: (line: LogLine) => boolean) => {
    const seen = lines.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      watchers.push({ predicate, resolve });
      void exited.then((code) => reject(new Error(`oracle exited (${code}) before the awaited log line\n${other}`)));
    });
  };
  return { child, lines, otherOutput: () => other, exited, waitFor };
}

function parseLogLine(text: string): LogLine | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null && "at" in value && "message" in value) return value as LogLine;
  } catch {
    return undefined;
  }
  return undefined;
}
