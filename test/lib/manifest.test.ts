import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { ManifestError, defaultManifestPath, loadManifest, parseManifest } from "../../scripts/lib/manifest.js";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const ESCROW = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const LEDGER = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
const STABLECOIN = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9";

function validManifest(): Record<string, unknown> {
  return {
    chainId: 11155111,
    network: "sepolia",
    contracts: {
      VehicleRegistry: { address: REGISTRY, blockNumber: 100 },
      TollEscrow: { address: ESCROW, blockNumber: 101 },
      DrivingRecordLedger: { address: LEDGER, blockNumber: 102 },
    },
  };
}

/** A copy of the valid manifest with one field replaced (`undefined` deletes it). */
function withField(pathInManifest: string, value: unknown): Record<string, unknown> {
  const manifest = structuredClone(validManifest());
  const keys = pathInManifest.split(".");
  let node = manifest as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  return manifest;
}

describe("deployment manifest", function () {
  describe("parseManifest", function () {
    it("accepts the agreed shape and normalises addresses to their checksum", function () {
      const manifest = parseManifest(withField("contracts.DrivingRecordLedger.address", LEDGER.toLowerCase()), "m");
      expect(manifest).to.deep.equal({
        chainId: 11155111,
        network: "sepolia",
        contracts: {
          VehicleRegistry: { address: REGISTRY, blockNumber: 100 },
          TollEscrow: { address: ESCROW, blockNumber: 101 },
          DrivingRecordLedger: { address: LEDGER, blockNumber: 102 },
        },
      });
    });

    it("keeps the optional TestStablecoin and ignores contracts it does not know", function () {
      const json = withField("contracts.TestStablecoin", { address: STABLECOIN, blockNumber: 99 });
      (json.contracts as Record<string, unknown>).GantryDirectory = { address: REGISTRY, blockNumber: 1 };
      const manifest = parseManifest(json, "m");
      expect(manifest.contracts.TestStablecoin).to.deep.equal({ address: STABLECOIN, blockNumber: 99 });
      expect(Object.keys(manifest.contracts)).to.not.include("GantryDirectory");
    });

    const bad: [string, unknown, RegExp][] = [
      ["chainId", undefined, /manifest m: chainId must be a positive integer, got undefined/],
      ["chainId", "1", /chainId must be a positive integer, got "1"/],
      ["chainId", 0, /chainId must be a positive integer, got 0/],
      ["network", "", /network must be a non-empty string/],
      ["contracts", [], /contracts must be an object/],
      ["contracts.TollEscrow", undefined, /contracts.TollEscrow is missing/],
      ["contracts.DrivingRecordLedger", "0x00", /contracts.DrivingRecordLedger must be an object/],
      ["contracts.VehicleRegistry.address", "0x1234", /contracts.VehicleRegistry.address must be a non-zero address/],
      [
        "contracts.VehicleRegistry.address",
        REGISTRY.replace("F", "f"),
        /contracts.VehicleRegistry.address must be a non-zero address with a valid checksum/,
      ],
      [
        "contracts.VehicleRegistry.address",
        "0x0000000000000000000000000000000000000000",
        /contracts.VehicleRegistry.address must be a non-zero address/,
      ],
      ["contracts.DrivingRecordLedger.blockNumber", -1, /contracts.DrivingRecordLedger.blockNumber must be a non-negative/],
      ["contracts.DrivingRecordLedger.blockNumber", 1.5, /blockNumber must be a non-negative integer, got 1.5/],
      ["contracts.TestStablecoin", { address: STABLECOIN }, /contracts.TestStablecoin.blockNumber must be/],
    ];
    for (const [field, value, message] of bad) {
      it(`names ${field} when it is ${JSON.stringify(value) ?? "missing"}`, function () {
        expect(() => parseManifest(withField(field, value), "m"))
          .to.throw(ManifestError)
          .with.property("message")
          .that.matches(message);
      });
    }

    it("refuses a top level that is not an object", function () {
      expect(() => parseManifest([], "m")).to.throw(ManifestError, "manifest m: (top level) must be a JSON object");
    });
  });

  describe("loadManifest", function () {
    let dir: string;
    before(async function () {
      dir = await mkdtemp(path.join(tmpdir(), "platechain-manifest-"));
    });
    after(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    it("reads a manifest file", async function () {
      const file = path.join(dir, "sepolia.json");
      await writeFile(file, JSON.stringify(validManifest()));
      expect((await loadManifest(file)).contracts.DrivingRecordLedger.address).to.equal(LEDGER);
    });

    it("names the file when it is missing or not JSON", async function () {
      const missing = path.join(dir, "nope.json");
      await expectRejection(loadManifest(missing), `manifest ${missing}: cannot read it (no such file)`);
      const broken = path.join(dir, "broken.json");
      await writeFile(broken, "{ chainId: 1");
      await expectRejection(loadManifest(broken), `manifest ${broken}: not valid JSON`);
    });

    it("defaults to deployments/<network>.json under the project root", function () {
      expect(defaultManifestPath("sepolia", "/srv/platechain")).to.equal("/srv/platechain/deployments/sepolia.json");
    });
  });
});

async function expectRejection(promise: Promise<unknown>, messageStart: string): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  expect(error).to.be.instanceOf(ManifestError);
  expect((error as Error).message.startsWith(messageStart), (error as Error).message).to.equal(true);
}
