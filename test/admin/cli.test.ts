/**
 * The administration tasks as an operator runs them: `npx hardhat --network localhost platechain ...` in a child
 * process, against a real `hardhat node` on 127.0.0.1 and a free port (LOCALHOST_RPC_URL points the localhost
 * network at it).
 */
import { spawn } from "node:child_process";

import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import hre from "hardhat";

import { startHardhatNode, type HardhatNodeProcess } from "../../scripts/lib/hardhatNode.js";
import { type AdminSetup, VIN_SALT, deployAdminSuite, plate } from "./adminSetup.js";
import { skipUnderCoverage } from "../utils/coverage.js";

/** A generous bound for a slow shared machine: each Hardhat process takes a few seconds to start. */
const COMMAND_TIMEOUT_MS = 60_000;

interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The variables @nomicfoundation/hardhat-utils' isCi() reads. */
const CI_MARKERS = [
  "CI",
  "CONTINUOUS_INTEGRATION",
  "GITHUB_ACTIONS",
  "NOW",
  "DEPLOYMENT_ID",
  "CODEBUILD_BUILD_NUMBER",
  "BUILD_NUMBER",
  "RUN_ID",
] as const;

/** The environment a child Hardhat process gets: this one's, without the options the test runner exported. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of Object.keys(env)) if (key.startsWith("HARDHAT_")) delete env[key];
  // Hardhat prints stack traces whenever it thinks it runs in CI; these tests state what an operator at a terminal
  // sees, so the child must not inherit the CI markers of the machine running the suite.
  for (const key of CI_MARKERS) delete env[key];
  return env;
}

async function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["hardhat", "--network", "localhost", "platechain", ...args], {
      cwd: hre.config.paths.root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`platechain ${args[0] ?? ""} did not finish within ${COMMAND_TIMEOUT_MS} ms`));
    }, COMMAND_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("platechain tasks from the command line, against a hardhat node", function () {
  before(function () {
    skipUnderCoverage(this, "a separate hardhat node measures nothing and refuses the instrumented contracts' size");
  });
  this.timeout(4 * COMMAND_TIMEOUT_MS);

  let node: HardhatNodeProcess | undefined;
  let url = "";
  let nodeEthers: HardhatEthers;
  let setup: AdminSetup;
  /** A CLI child's environment: its localhost network is this test's node. */
  const cliEnv = (extra: Record<string, string> = {}) => childEnv({ LOCALHOST_RPC_URL: url, ...extra });

  before(async function () {
    node = await startHardhatNode({ cwd: hre.config.paths.root, env: childEnv() });
    url = node.url;
    const connection = await hre.network.create({ network: "localhost", override: { url } });
    nodeEthers = connection.ethers;
    setup = await deployAdminSuite(nodeEthers, "localhost");
  });

  after(async function () {
    await node?.stop();
  });

  it("registers a vehicle: exit code 0, one line with the new id and the transaction hash", async function () {
    const result = await runCli(
      [
        "register-vehicle",
        "--manifest",
        setup.manifestPath,
        "--from",
        setup.registrar.address,
        "--owner",
        setup.owner.address,
        "--plate",
        plate(2).address,
        "--vin",
        "WVWZZZ1JZXW000002",
        "--class",
        "van",
      ],
      cliEnv({ VIN_SALT }),
    );
    expect(result.code, result.stderr).to.equal(0);
    const line = /^registered vehicle 2 \(van\) .* \(tx (0x[0-9a-f]{64})\)$/m.exec(result.stdout);
    expect(line, result.stdout).to.not.equal(null);
    expect(result.stdout).to.not.include(VIN_SALT.slice(2));
    const receipt = await nodeEthers.provider.getTransactionReceipt(line?.[1] ?? "");
    expect(receipt?.status).to.equal(1);
    expect((await setup.registry.connect(nodeEthers.provider).vehicle(2n)).plate).to.equal(plate(2).address);
  });

  it("shows the vehicle's status read-only", async function () {
    const result = await runCli(["status", "--manifest", setup.manifestPath, "--vehicle", "1"], cliEnv());
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include(`vehicle 1: car, active, owner ${setup.owner.address}`);
    expect(result.stdout).to.include("balance 10.00 tUSD, arrears 0.00 tUSD");
  });

  it("decodes a revert the node returns over HTTP into the custom error, and exits with code 1", async function () {
    const result = await runCli(
      [
        "set-status",
        "--manifest",
        setup.manifestPath,
        "--from",
        setup.regulator.address,
        "--vehicle",
        "1",
        "--status",
        "active",
        "--reason-code",
        "3",
      ],
      cliEnv(),
    );
    expect(result.code).to.equal(1);
    expect(result.stdout + result.stderr).to.include(
      "setStatus was refused by VehicleRegistry: " +
        "VehicleRegistryInvalidStatusChange(vehicleId: 1, current: active, requested: active)",
    );
  });

  it("fails with exit code 1 and a one-line reason, no stack trace, for a bad flag", async function () {
    const result = await runCli(
      ["set-status", "--manifest", setup.manifestPath, "--vehicle", "1", "--status", "lost", "--reason-code", "3"],
      cliEnv(),
    );
    expect(result.code).to.equal(1);
    const output = result.stdout + result.stderr;
    expect(output).to.include('--status must be one of active, suspended, stolen, scrapped; got "lost"');
    expect(output).to.not.match(/\n\s+at /);
  });
});
