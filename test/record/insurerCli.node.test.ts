import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Wallet, id } from "ethers";
import { network } from "hardhat";

import { startHardhatNode, type HardhatNodeProcess } from "../../scripts/lib/hardhatNode.js";
import { TrustLevel, encodeBatch, ledgerDomain, signRecord } from "../../scripts/lib/ledger.js";
import type { RecordSubmission } from "../../scripts/lib/ledger.js";
import { VehicleClass } from "../../scripts/lib/vehicle.js";
import { ADMIN_DELAY, DAY, makeRecord } from "./ledgerSetup.js";
import { skipUnderCoverage } from "../utils/coverage.js";

/**
 * The insurer CLI end to end: a real `hardhat node` on a free loopback port, contracts deployed and records appended
 * over JSON-RPC, a manifest written, then `npm run insurer` run as a child process against that node.
 */

const PROJECT_ROOT = path.resolve(import.meta.dirname, "..", "..");

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run -s insurer -- <args>` (-s: npm's own banner would pollute the output). */
async function runCli(args: readonly string[]): Promise<CliRun> {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const child = spawn(npm, ["run", "-s", "insurer", "--", ...args], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stdout, stderr };
}

describe("insurer CLI against a hardhat node", function () {
  before(function () {
    skipUnderCoverage(this, "contracts running in a separate hardhat node are not measured, and npm test has already run this");
  });
  this.timeout(300_000);

  let node: HardhatNodeProcess | undefined;
  let dir: string;
  let url: string;
  let manifestPath: string;
  let insurer: string;
  let plate: string;
  let periodStart: number;

  before(async function () {
    node = await startHardhatNode({ cwd: PROJECT_ROOT });
    url = node.url;
    dir = await mkdtemp(path.join(tmpdir(), "platechain-insurer-"));

    const connection = await network.create({ network: "localhost", override: { url } });
    try {
      const { ethers } = connection;
      const [admin, registrar, reporter, owner, insurerSigner] = await ethers.getSigners();
      insurer = insurerSigner.address;
      const registry = await ethers.deployContract("VehicleRegistry", [ADMIN_DELAY, admin.address]);
      const ledger = await ethers.deployContract("DrivingRecordLedger", [
        await registry.getAddress(),
        ADMIN_DELAY,
        admin.address,
      ]);
      const ledgerBlock = (await ledger.deploymentTransaction()?.wait())?.blockNumber;
      const registryBlock = (await registry.deploymentTransaction()?.wait())?.blockNumber;
      await (await registry.grantRole(await registry.REGISTRAR_ROLE(), registrar.address)).wait();
      await (await ledger.grantRole(await ledger.REPORTER_ROLE(), reporter.address)).wait();

      const plateKey = new Wallet(id("cli test plate"));
      plate = plateKey.address;
      await (await registry.connect(registrar).registerVehicle(owner.address, plate, id("VIN cli"), VehicleClass.Car)).wait();
      const latest = await ethers.provider.getBlock("latest");
      periodStart = (latest?.timestamp ?? 0) - 10 * DAY;
      periodStart -= periodStart % DAY;
      const { chainId } = await ethers.provider.getNetwork();
      const signed = makeRecord(periodStart + DAY);
      const batches: RecordSubmission[][] = [
        [{ vehicleId: 1n, record: makeRecord(periodStart), trust: TrustLevel.ReporterAsserted }],
        [
          {
            vehicleId: 1n,
            record: signed,
            trust: TrustLevel.PlateSigned,
            signature: await signRecord(plateKey, ledgerDomain(chainId, await ledger.getAddress()), 1n, signed),
          },
          { vehicleId: 1n, record: makeRecord(periodStart + 2 * DAY), trust: TrustLevel.ReporterAsserted },
        ],
      ];
      for (const batch of batches) {
        await (await ledger.connect(reporter).appendRecords(encodeBatch(batch))).wait();
      }
      const expiry = (latest?.timestamp ?? 0) + 365 * DAY;
      await (await ledger.connect(owner).grantConsent(1n, insurer, expiry)).wait();

      manifestPath = path.join(dir, "localhost.json");
      const deployment = (address: string, blockNumber: number | undefined) => ({ address, blockNumber });
      await writeFile(
        manifestPath,
        JSON.stringify({
          chainId: Number(chainId),
          network: "localhost",
          contracts: {
            VehicleRegistry: deployment(await registry.getAddress(), registryBlock),
            // The insurer never reads the escrow; the manifest's shape still requires it.
            TollEscrow: deployment(await registry.getAddress(), registryBlock),
            DrivingRecordLedger: deployment(await ledger.getAddress(), ledgerBlock),
          },
        }),
      );
    } finally {
      await connection.close();
    }
  });

  after(async function () {
    await node?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("prints the records, a verified chain, the insurer's consent and a usage summary", async function () {
    const run = await runCli([
      "--vehicle",
      "1",
      "--network",
      "localhost",
      "--rpc-url",
      url,
      "--manifest",
      manifestPath,
      "--insurer",
      insurer,
      "--max-block-span",
      "2",
    ]);
    expect(run.stderr, run.stderr).to.not.match(/insurer:/);
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).to.equal(`Vehicle 1, plate ${plate}, owner ${lines[0].split("owner ")[1]}`);
    expect(lines.filter((line) => /^[123] +\d{4}-\d{2}-\d{2}T/.test(line))).to.have.length(3);
    expect(run.stdout).to.match(/^2 .* plate-signed$/m);
    expect(run.stdout).to.match(/^Chain: verified: 3 records from #1 link to the ledger's head 0x[0-9a-f]{48}$/m);
    expect(run.stdout).to.match(new RegExp(`^Consent: granted to ${insurer} by 0x[0-9a-fA-F]{40} until `, "m"));
    // Three records of makeRecord's defaults: 84.25 km, 1.5 h, 2 + 1 harsh events, 240 s speeding, 12 km at night.
    expect(run.stdout).to.include(
      "Summary: 3 record(s) (1 plate-signed, 0 corrected); 252.8 km in 4.5 h; " +
        "6 harsh braking + 3 harsh acceleration = 3.56 per 100 km; speeding 4.4% of driving time; " +
        "night 14.2% of distance",
    );
  });

  it("finds the vehicle by plate, filters by date, and reports JSON for the network's first account", async function () {
    const day = (offset: number) => new Date((periodStart + offset * DAY) * 1000).toISOString().slice(0, 10);
    const run = await runCli([
      "--vehicle",
      plate,
      "--from",
      day(1),
      "--to",
      day(1),
      "--json",
      "--network",
      "localhost",
      "--rpc-url",
      url,
      "--manifest",
      manifestPath,
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as {
      vehicle: { vehicleId: string };
      verification: { valid: boolean; onchainCount: number };
      inRange: { original: { index: number; trust: number } }[];
      consent: { state: string };
    };
    expect(report.vehicle.vehicleId).to.equal("1");
    expect(report.verification).to.deep.include({ valid: true, onchainCount: 3 });
    expect(report.inRange.map((e) => e.original.index)).to.deep.equal([2]);
    expect(report.inRange[0].original.trust).to.equal(TrustLevel.PlateSigned);
    // The first account is the admin, who holds no consent.
    expect(report.consent.state).to.equal("none");
  });

  it("fails with a message naming the bad flag or manifest", async function () {
    const badFlag = await runCli(["--vehicle", "1", "--from", "soon"]);
    expect(badFlag.code).to.equal(1);
    expect(badFlag.stderr).to.include('insurer: --from "soon" is not a date');
    const wrongChain = path.join(dir, "wrong-chain.json");
    await writeFile(wrongChain, JSON.stringify({ chainId: 1, network: "mainnet", contracts: {} }));
    const badManifest = await runCli(["--vehicle", "1", "--manifest", wrongChain, "--rpc-url", url]);
    expect(badManifest.code).to.equal(1);
    expect(badManifest.stderr).to.include(`insurer: manifest ${wrongChain}: contracts.VehicleRegistry is missing`);
  });
});
