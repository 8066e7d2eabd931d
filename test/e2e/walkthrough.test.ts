import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { expect } from "chai";

import { startHardhatNode, type HardhatNodeProcess } from "../../scripts/lib/hardhatNode.js";
import { parseManifest } from "../../scripts/lib/manifest.js";
import { skipUnderCoverage } from "../utils/coverage.js";

const run = promisify(execFile);

/** The last JSON line of a relayer run: its summary. */
function relayerSummary(output: string): Record<string, unknown> {
  const line = output.split("\n").find((l) => l.includes('"relayer finished"'));
  if (line === undefined) throw new Error(`no relayer summary in:\n${output}`);
  return JSON.parse(line) as Record<string, unknown>;
}

/**
 * The README's local walkthrough, command by command, against a real `hardhat node` over JSON-RPC: deploy, seed
 * the example world, relay its readings with the oracle CLI, read a vehicle's report with the insurer's CLI.
 */
describe("README walkthrough on a local node: deploy, seed, relay, read", function () {
  before(function () {
    skipUnderCoverage(this, "contracts running in a separate hardhat node are not measured, and npm test has already run this");
  });
  this.timeout(240_000);
  let node: HardhatNodeProcess;
  let dir: string;

  before(async function () {
    node = await startHardhatNode();
    dir = await mkdtemp(path.join(tmpdir(), "platechain-walkthrough-"));
  });

  after(async function () {
    await node?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const npm = async (script: string, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const { stdout, stderr } = await run("npm", ["run", "-s", script, "--", ...args], {
      env: { ...process.env, LOCALHOST_RPC_URL: node.url, ...extraEnv },
      maxBuffer: 16 * 1024 * 1024,
    });
    return `${stdout}\n${stderr}`;
  };

  it("deploys, seeds, settles every example reading exactly once and prints a verified insurer report", async function () {
    const manifestFile = path.join(dir, "localhost.json");
    const deployed = await npm("deploy", ["--network", "localhost", "--manifest", manifestFile]);
    expect(deployed).to.match(/checks: \d+ ok, 0 pending, 0 failed/);
    const manifest = parseManifest(JSON.parse(await readFile(manifestFile, "utf8")), manifestFile);
    expect(manifest.chainId).to.equal(31337);

    const exampleDir = path.join(dir, "example");
    const seeded = await npm("seed:example", ["--network", "localhost", "--manifest", manifestFile, "--out", exampleDir]);
    expect(seeded).to.contain("Example world on localhost: 20 vehicles");
    const readings = (await readFile(path.join(exampleDir, "readings.ndjson"), "utf8")).trim().split("\n");
    expect(readings.length).to.be.greaterThan(10);

    const keys = Object.fromEntries(
      (await readFile(path.join(exampleDir, "oracle.env"), "utf8"))
        .split("\n")
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    const oracleArgs = [
      ...["--network", "localhost", "--input", path.join(exampleDir, "readings.ndjson")],
      ...["--manifest", manifestFile, "--journal", path.join(dir, "journal.sqlite")],
      ...["--rejects", path.join(dir, "rejects.ndjson"), "--json"],
    ];
    const first = relayerSummary(await npm("oracle", oracleArgs, keys));
    expect(first.accepted).to.equal(readings.length);
    expect(first.scansCharged).to.equal(readings.length);
    expect(first.rejected).to.equal(0);

    // The same file again: the journal knows every reading, nothing is sent or charged twice.
    const second = relayerSummary(await npm("oracle", oracleArgs, keys));
    expect(second.accepted).to.equal(0);
    expect(second.scansCharged).to.equal(0);

    const report = await npm("insurer", ["--network", "localhost", "--manifest", manifestFile, "--vehicle", "1"]);
    expect(report).to.contain("Vehicle 1,");
    expect(report).to.match(/Chain: verified: 1 records/);
  });
});
