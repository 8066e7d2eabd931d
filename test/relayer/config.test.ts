import { expect } from "chai";

import { ConfigError, DEFAULTS, makeRelayerConfig, parseCliArgs } from "../../scripts/lib/relayer/config.js";
import { envResolver, loadRelayerKeys, parseGantryList } from "../../scripts/lib/relayer/keys.js";

const KEY_A = "0x" + "11".repeat(32);
const KEY_B = "0x" + "22".repeat(32);

function configOf(argv: string[]) {
  const parsed = parseCliArgs(argv);
  if (parsed.help) throw new Error("unexpected --help");
  return parsed.config;
}

function expectConfigError(run: () => unknown, setting: string) {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).setting).to.equal(setting);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError naming ${setting}`);
}

async function expectKeyError(env: Record<string, string>, setting: string) {
  try {
    await loadRelayerKeys(envResolver(env));
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).setting).to.equal(setting);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError naming ${setting}`);
}

describe("relayer config", function () {
  describe("parseCliArgs", function () {
    it("fills defaults that depend on the network name", function () {
      const config = configOf(["--network", "localhost", "--input", "readings.ndjson"]);
      expect(config.batchSize).to.equal(DEFAULTS.batchSize);
      expect(config.maxWaitMs).to.equal(DEFAULTS.maxWaitMs);
      expect(config.journalPath).to.equal("var/relayer/localhost/journal.sqlite");
      expect(config.rejectsPath).to.equal("var/relayer/localhost/rejects.ndjson");
      expect(config.manifestPath).to.equal("deployments/localhost.json");
      expect(config.follow).to.equal(false);
      expect(config.dryRun).to.equal(false);
      expect(config.gasLimit).to.equal("estimate");
      expect(config.simulate).to.equal("every");
    });

    it("reads every flag", function () {
      const config = configOf([
        "--network=sepolia",
        "--input=-",
        "--batch-size=20",
        "--max-wait-ms=250",
        "--dry-run",
        "--json",
        "--journal=/tmp/j.sqlite",
        "--rejects=/tmp/r.ndjson",
        "--manifest=/tmp/m.json",
        "--rpc-url=http://127.0.0.1:9999",
        "--confirmations=3",
        "--max-in-flight=2",
        "--broadcast-depth=2",
        "--clock-skew-s=5",
        "--max-line-bytes=512",
        "--stuck-after-ms=2000",
        "--poll-ms=50",
        "--progress-ms=1000",
        "--max-fee-gwei=1.5",
        "--max-gas-per-tx=3000000",
        "--gas-limit=bound",
        "--simulate=first",
      ]);
      expect(config).to.include({
        network: "sepolia",
        input: "-",
        batchSize: 20,
        maxWaitMs: 250,
        dryRun: true,
        json: true,
        journalPath: "/tmp/j.sqlite",
        rejectsPath: "/tmp/r.ndjson",
        manifestPath: "/tmp/m.json",
        rpcUrl: "http://127.0.0.1:9999",
        confirmations: 3,
        maxInFlight: 2,
        broadcastDepth: 2,
        clockSkewSeconds: 5,
        maxLineBytes: 512,
        stuckAfterMs: 2000,
        pollIntervalMs: 50,
        progressIntervalMs: 1000,
        maxGasPerTx: 3_000_000,
        gasLimit: "bound",
        simulate: "first",
      });
      expect(config.maxFeePerGas).to.equal(1_500_000_000n);
    });

    it("returns a frozen object", function () {
      const config = configOf(["--network", "localhost", "--input", "x"]);
      expect(Object.isFrozen(config)).to.equal(true);
    });

    it("answers --help without requiring other flags", function () {
      expect(parseCliArgs(["--help"])).to.deep.equal({ help: true });
    });

    describe("names the bad setting", function () {
      const base = ["--network", "localhost", "--input", "x"];
      const cases: Array<[string[], string]> = [
        [["--input", "x"], "--network"],
        [["--network", "localhost"], "--input"],
        [["--network", "local host", "--input", "x"], "--network"],
        [[...base, "--batch-size", "0"], "--batch-size"],
        [[...base, "--batch-size", "ten"], "--batch-size"],
        [[...base, "--batch-size", "-5"], "--batch-size"],
        [[...base, "--max-wait-ms", "1.5"], "--max-wait-ms"],
        [[...base, "--confirmations", "0"], "--confirmations"],
        [[...base, "--max-in-flight", "100000"], "--max-in-flight"],
        [[...base, "--broadcast-depth", "0"], "--broadcast-depth"],
        [[...base, "--broadcast-depth", "17"], "--broadcast-depth"],
        [[...base, "--max-line-bytes", "10"], "--max-line-bytes"],
        [[...base, "--poll-ms", "1"], "--poll-ms"],
        [[...base, "--rpc-url", "not a url"], "--rpc-url"],
        [[...base, "--rpc-url", "ftp://example.org"], "--rpc-url"],
        [[...base, "--max-fee-gwei", "abc"], "--max-fee-gwei"],
        [[...base, "--max-fee-gwei", "0"], "--max-fee-gwei"],
        [[...base, "--max-gas-per-tx", "20000000"], "--max-gas-per-tx"],
        // Below one scan's worst case, which is the least a bounded gas limit can be.
        [[...base, "--gas-limit", "bound", "--max-gas-per-tx", "200000"], "--max-gas-per-tx"],
        [[...base, "--gas-limit", "auto"], "--gas-limit"],
        [[...base, "--simulate", "never"], "--simulate"],
        [[...base, "--bogus"], "--bogus"],
        [["--network", "localhost", "--input", "-", "--follow"], "--follow"],
      ];
      for (const [argv, setting] of cases) {
        it(`${argv.join(" ")} -> ${setting}`, function () {
          expectConfigError(() => parseCliArgs(argv), setting);
        });
      }
    });

    it("accepts a cap below one scan's worst case when the gas limit is estimated", function () {
      const config = configOf([
        "--network",
        "localhost",
        "--input",
        "x",
        "--gas-limit",
        "estimate",
        "--max-gas-per-tx",
        "200000",
      ]);
      expect(config).to.include({ gasLimit: "estimate", maxGasPerTx: 200_000 });
    });

    it("does not echo an RPC URL, which may carry an API key", function () {
      const error = expectConfigError(
        () => makeRelayerConfig({ network: "x", input: "y", rpcUrl: "wss//secret-project-id" }),
        "--rpc-url",
      );
      expect(error.message).not.to.contain("secret-project-id");
    });
  });

  describe("loadRelayerKeys", function () {
    it("maps each gantry of ORACLE_KEYS to its key", async function () {
      const keys = await loadRelayerKeys(envResolver({ ORACLE_KEYS: `7:${KEY_A}, 8:${KEY_B},9:${KEY_A}` }));
      expect([...keys.oracleSigners.keys()]).to.have.members([7, 8, 9]);
      expect(keys.oracleSigners.get(7)?.privateKey).to.equal(KEY_A);
      expect(keys.oracleSigners.get(8)?.privateKey).to.equal(KEY_B);
      expect(keys.oracleSigners.get(9)).to.equal(keys.oracleSigners.get(7));
      expect(keys.gasSigner).to.equal(undefined);
    });

    it("gives ORACLE_PRIVATE_KEY to the ORACLE_GANTRIES, with ORACLE_KEYS overriding per gantry", async function () {
      const keys = await loadRelayerKeys(
        envResolver({
          ORACLE_PRIVATE_KEY: KEY_A,
          ORACLE_GANTRIES: "1-3, 10",
          ORACLE_KEYS: `2:${KEY_B}`,
          RELAYER_PRIVATE_KEY: KEY_B.slice(2),
        }),
      );
      expect([...keys.oracleSigners.keys()]).to.have.members([1, 2, 3, 10]);
      expect(keys.oracleSigners.get(1)?.privateKey).to.equal(KEY_A);
      expect(keys.oracleSigners.get(2)?.privateKey).to.equal(KEY_B);
      expect(keys.gasSigner?.privateKey).to.equal(KEY_B);
    });

    it("parses gantry ranges", function () {
      expect(parseGantryList("5,1-3,3")).to.deep.equal([5, 1, 2, 3]);
    });

    it("requires some oracle key", async function () {
      await expectKeyError({}, "ORACLE_KEYS");
    });

    it("requires ORACLE_GANTRIES with ORACLE_PRIVATE_KEY, and refuses it alone", async function () {
      await expectKeyError({ ORACLE_PRIVATE_KEY: KEY_A }, "ORACLE_GANTRIES");
      await expectKeyError({ ORACLE_GANTRIES: "1", ORACLE_KEYS: `1:${KEY_A}` }, "ORACLE_GANTRIES");
    });

    it("names the bad entry and never echoes a key", async function () {
      const badKey = "0x" + "ab".repeat(31);
      const error = await expectKeyError({ ORACLE_KEYS: `7:${KEY_A},8:${badKey}` }, "ORACLE_KEYS entry 2");
      expect(error.message).not.to.contain("ab".repeat(31));
      await expectKeyError({ ORACLE_KEYS: `7${KEY_A}` }, "ORACLE_KEYS entry 1");
      await expectKeyError({ ORACLE_KEYS: `7:${KEY_A},7:${KEY_B}` }, "ORACLE_KEYS entry 2");
      await expectKeyError({ ORACLE_KEYS: `4294967296:${KEY_A}` }, "ORACLE_KEYS entry 1");
      const zero = await expectKeyError(
        { RELAYER_PRIVATE_KEY: "0x" + "00".repeat(32), ORACLE_KEYS: `1:${KEY_A}` },
        "RELAYER_PRIVATE_KEY",
      );
      expect(zero.message).not.to.contain("00".repeat(32));
    });

    it("refuses backwards and oversized gantry ranges", async function () {
      await expectKeyError({ ORACLE_PRIVATE_KEY: KEY_A, ORACLE_GANTRIES: "9-3" }, "ORACLE_GANTRIES entry 1");
      await expectKeyError({ ORACLE_PRIVATE_KEY: KEY_A, ORACLE_GANTRIES: "1,0-4000000000" }, "ORACLE_GANTRIES entry 2");
      await expectKeyError({ ORACLE_PRIVATE_KEY: KEY_A, ORACLE_GANTRIES: "x" }, "ORACLE_GANTRIES entry 1");
    });
  });
});
