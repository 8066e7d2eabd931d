import { expect } from "chai";
import { Interface, type InterfaceAbi, Wallet, id } from "ethers";
import hre from "hardhat";

import { AdminError } from "../../scripts/lib/admin/errors.js";
import {
  formatTimestamp,
  formatTokenAmount,
  parseAddress,
  parseChoice,
  parseFees,
  parseTimestamp,
  parseTokenAmount,
} from "../../scripts/lib/admin/parse.js";
import { describeRevertData, revertDataOf } from "../../scripts/lib/admin/revert.js";
import { VEHICLE_CLASSES } from "../../scripts/lib/admin/names.js";

const MAX_FEE = 2n ** 48n - 1n;

function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(AdminError);
    return (error as AdminError).message;
  }
  return expect.fail("expected an AdminError");
}

describe("admin flag parsing", function () {
  describe("token amounts", function () {
    it("converts token units to the smallest unit exactly, without floating point", function () {
      expect(parseTokenAmount("fees", "1.20", 6)).to.equal(1_200_000n);
      expect(parseTokenAmount("fees", "0.000001", 6)).to.equal(1n);
      expect(parseTokenAmount("fees", "3", 6)).to.equal(3_000_000n);
      // 0.1 + 0.2 is not 0.3 in floating point; here it is.
      expect(parseTokenAmount("fees", "0.3", 18)).to.equal(300_000_000_000_000_000n);
      expect(parseTokenAmount("fees", "123456789012345678901234567890.5", 1)).to.equal(
        1234567890123456789012345678905n,
      );
    });

    it("refuses more decimals than the token has, signs, exponents and blanks", function () {
      expect(thrown(() => parseTokenAmount("fees", "1.2345678", 6))).to.equal(
        '--fees has "1.2345678" with 7 decimals, but the token has only 6',
      );
      for (const bad of ["-1", "1e3", ".5", "1.", "1,5", ""]) {
        expect(thrown(() => parseTokenAmount("fees", bad, 6))).to.match(/is not an amount in token units/);
      }
    });

    it("formats amounts back with at least two decimals", function () {
      expect(formatTokenAmount(1_200_000n, 6)).to.equal("1.20");
      expect(formatTokenAmount(1n, 6)).to.equal("0.000001");
      expect(formatTokenAmount(0n, 6)).to.equal("0.00");
      expect(formatTokenAmount(5n, 0)).to.equal("5");
    });
  });

  describe("fees", function () {
    it("reads five fees in class order or all five by name", function () {
      const positional = parseFees("fees", "0.6, 1.2, 2, 4.5, 3", 6, MAX_FEE);
      expect(positional).to.deep.equal([600_000n, 1_200_000n, 2_000_000n, 4_500_000n, 3_000_000n]);
      expect(parseFees("fees", "BUS=3,truck=4.5,van=2,car=1.2,motorcycle=0.6", 6, MAX_FEE)).to.deep.equal(positional);
    });

    it("refuses a class named twice, an unknown class, a mix of forms and a fee above the maximum", function () {
      expect(thrown(() => parseFees("fees", "car=1,car=1,van=2,truck=4,bus=3", 6, MAX_FEE))).to.equal(
        "--fees gives the car fee twice",
      );
      expect(thrown(() => parseFees("fees", "emergency=0,car=1,van=2,truck=4,bus=3", 6, MAX_FEE))).to.match(
        /^--fees names "emergency", which is not a paying class/,
      );
      expect(thrown(() => parseFees("fees", "car=1,1,2,4,3", 6, MAX_FEE))).to.match(
        /^--fees mixes named and positional fees/,
      );
      expect(thrown(() => parseFees("fees", "1,1,300000000,4,3", 6, MAX_FEE))).to.equal(
        "--fees gives van 300000000, above the escrow's maximum fee",
      );
    });
  });

  describe("times", function () {
    it("reads unix seconds, a UTC date and an ISO date-time with a zone", function () {
      expect(parseTimestamp("effectiveAt", "1900000000")).to.equal(1_900_000_000n);
      expect(parseTimestamp("effectiveAt", "2030-01-01")).to.equal(1_893_456_000n);
      expect(parseTimestamp("effectiveAt", "2030-01-01T01:00:00+01:00")).to.equal(1_893_456_000n);
      expect(parseTimestamp("effectiveAt", "2030-01-01T00:00Z")).to.equal(1_893_456_000n);
      expect(formatTimestamp(1_893_456_000n)).to.equal("2030-01-01T00:00:00Z");
    });

    it("refuses dates that do not exist and times without a zone", function () {
      expect(thrown(() => parseTimestamp("effectiveAt", "2031-02-29"))).to.equal(
        '--effective-at is not a real date: "2031-02-29"',
      );
      expect(thrown(() => parseTimestamp("effectiveAt", "2030-01-01 10:00"))).to.match(
        /^--effective-at must be unix seconds/,
      );
      expect(thrown(() => parseTimestamp("effectiveAt", "tomorrow"))).to.match(/^--effective-at must be unix seconds/);
    });
  });

  describe("addresses and names", function () {
    it("accepts a checksummed address and refuses the zero address and unchecksummed input", function () {
      const address = Wallet.createRandom().address;
      expect(parseAddress("owner", address)).to.equal(address);
      expect(thrown(() => parseAddress("owner", `0x${"0".repeat(40)}`))).to.equal(
        "--owner must not be the zero address",
      );
      expect(thrown(() => parseAddress("owner", address.toLowerCase()))).to.match(/EIP-55 checksum \(mixed case\)/);
      expect(thrown(() => parseAddress("owner", "0x1234"))).to.match(/^--owner must be a 0x-prefixed 20-byte address/);
      expect(thrown(() => parseAddress("owner", undefined))).to.equal("--owner is required");
    });

    it("matches names case-insensitively with _ or spaces for -", function () {
      expect(parseChoice("class", " Emergency ", VEHICLE_CLASSES)).to.equal(5);
    });
  });

  describe("revert decoding", function () {
    it("names the role an AccessControl revert is about and finds the data however deep ethers wrapped it", async function () {
      const abi = (await hre.artifacts.readArtifact("VehicleRegistry")).abi as InterfaceAbi;
      const account = Wallet.createRandom().address;
      const data = new Interface(abi).encodeErrorResult("AccessControlUnauthorizedAccount", [
        account,
        id("REGISTRAR_ROLE"),
      ]);
      const wrapped = { message: "call failed", error: { info: { error: { data } } } };
      expect(revertDataOf(wrapped)).to.equal(data);
      expect(describeRevertData(data, [{ name: "VehicleRegistry", abi }])).to.equal(
        `VehicleRegistry: AccessControlUnauthorizedAccount(account: ${account}, neededRole: REGISTRAR_ROLE)`,
      );
    });

    it("leaves data no contract declares undecoded", async function () {
      const abi = (await hre.artifacts.readArtifact("VehicleRegistry")).abi as InterfaceAbi;
      expect(describeRevertData("0xdeadbeef", [{ name: "VehicleRegistry", abi }])).to.equal(undefined);
    });
  });
});
