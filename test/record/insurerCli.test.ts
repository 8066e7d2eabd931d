import path from "node:path";

import { expect } from "chai";

import { DEFAULT_MAX_BLOCK_SPAN } from "../../scripts/lib/insurer.js";
import { DEFAULT_NETWORK, UsageError, parseInsurerArgs, parseTime } from "../../scripts/lib/insurerCli.js";

const PLATE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ROOT = "/srv/platechain";

function parse(...argv: string[]) {
  return parseInsurerArgs(argv, ROOT);
}

function expectUsageError(argv: string[], message: string | RegExp): void {
  const call = () => parse(...argv);
  if (typeof message === "string") expect(call).to.throw(UsageError, message);
  else expect(call).to.throw(UsageError).with.property("message").that.matches(message);
}

describe("insurer CLI flags", function () {
  it("needs only --vehicle and defaults the rest", function () {
    expect(parse("--vehicle", "7")).to.deep.equal({
      help: false,
      vehicle: "7",
      range: { from: undefined, to: undefined },
      format: "text",
      network: DEFAULT_NETWORK,
      rpcUrl: undefined,
      manifest: path.join(ROOT, "deployments", `${DEFAULT_NETWORK}.json`),
      insurer: undefined,
      maxBlockSpan: DEFAULT_MAX_BLOCK_SPAN,
      startBlock: undefined,
    });
  });

  it("reads every flag, in either --flag value or --flag=value form, after npm's --", function () {
    const options = parse(
      "--",
      "--vehicle",
      PLATE.toLowerCase(),
      "--from=2026-01-01",
      "--to",
      "2026-01-31",
      "--csv",
      "--network",
      "sepolia",
      "--rpc-url",
      "https://rpc.example/v1",
      "--insurer",
      PLATE,
      "--max-block-span",
      "500",
      "--start-block=1234",
    );
    expect(options).to.deep.include({
      vehicle: PLATE,
      format: "csv",
      network: "sepolia",
      rpcUrl: "https://rpc.example/v1",
      manifest: path.join(ROOT, "deployments", "sepolia.json"),
      insurer: PLATE,
      maxBlockSpan: 500,
      startBlock: 1234,
    });
    // A bare --to date includes that whole day.
    expect(options.range).to.deep.equal({ from: Date.UTC(2026, 0, 1) / 1000, to: Date.UTC(2026, 1, 1) / 1000 });
  });

  it("takes --manifest over the network's default and --json as the format", function () {
    expect(parse("--vehicle", "1", "--manifest", "/tmp/m.json", "--json")).to.deep.include({
      manifest: "/tmp/m.json",
      format: "json",
    });
  });

  it("accepts --help without --vehicle", function () {
    expect(parse("--help").help).to.equal(true);
  });

  describe("refuses, naming the flag", function () {
    const cases: [string[], string | RegExp][] = [
      [[], "--vehicle is required"],
      [["--vehicle"], "--vehicle needs a value"],
      [["--vehicle", "--json"], "--vehicle needs a value"],
      [["--vehicle", "car"], '--vehicle "car" is neither a vehicle id nor a plate address'],
      [["--vehicle", "0"], "--vehicle: vehicle ids start at 1"],
      [["--vehicle", PLATE.replace("C", "c")], /--vehicle ".*" is not an address \(bad checksum/],
      [["--vehicle", "1", "--vehicle", "2"], "--vehicle is given more than once"],
      [["--vehicle", "1", "--from", "yesterday"], '--from "yesterday" is not a date'],
      [["--vehicle", "1", "--to", "2026-13-01"], '--to "2026-13-01" is not a calendar date'],
      [["--vehicle", "1", "--from", "2026-01-01T10:00"], '--from "2026-01-01T10:00" is not a date'],
      [["--vehicle", "1", "--from", "2026-02-01", "--to", "2026-01-01"], /--from 2026-02-01T00:00:00Z is not before --to/],
      [["--vehicle", "1", "--json", "--csv"], "--json and --csv exclude each other"],
      [["--vehicle", "1", "--json=yes"], "--json takes no value"],
      [["--vehicle", "1", "--network", "my net"], '--network "my net" is not a network name'],
      [["--vehicle", "1", "--rpc-url", "localhost:8545"], '--rpc-url "localhost:8545" must be an http or https URL'],
      [["--vehicle", "1", "--rpc-url", "not a url"], '--rpc-url "not a url" is not a URL'],
      [["--vehicle", "1", "--insurer", "0xabc"], '--insurer "0xabc" is not an address'],
      [["--vehicle", "1", "--max-block-span", "0"], '--max-block-span "0" must be an integer of at least 1'],
      [["--vehicle", "1", "--max-block-span", "1e4"], '--max-block-span "1e4" must be an integer of at least 1'],
      [["--vehicle", "1", "--start-block", "-5"], '--start-block "-5" must be an integer of at least 0'],
      [["--vehicle", "1", "--verbose"], "unknown flag --verbose"],
      [["--vehicle", "1", "extra"], 'unexpected argument "extra"'],
    ];
    for (const [argv, message] of cases) {
      it(`${argv.join(" ") || "(no flags)"}`, function () {
        expectUsageError(argv, message);
      });
    }
  });

  describe("parseTime", function () {
    it("reads bare dates as UTC midnight, or the next midnight for an inclusive end", function () {
      expect(parseTime("from", "2026-03-01", false)).to.equal(Date.UTC(2026, 2, 1) / 1000);
      expect(parseTime("to", "2026-03-01", true)).to.equal(Date.UTC(2026, 2, 2) / 1000);
    });

    it("reads ISO 8601 times with a zone and unix seconds", function () {
      expect(parseTime("from", "2026-03-01T08:30:00+02:00", false)).to.equal(Date.UTC(2026, 2, 1, 6, 30) / 1000);
      expect(parseTime("from", "2026-03-01T08:30Z", false)).to.equal(Date.UTC(2026, 2, 1, 8, 30) / 1000);
      expect(parseTime("from", "1767225600", false)).to.equal(1_767_225_600);
    });
  });
});
