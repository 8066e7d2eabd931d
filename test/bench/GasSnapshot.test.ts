import { expect } from "chai";
import { network } from "hardhat";

import { measureGas } from "../../bench/lib/gas.js";
import { HOT_PATHS, UPDATE_COMMAND, describeChange, readSnapshot, snapshotOf } from "../../bench/lib/snapshot.js";
import type { Snapshot } from "../../bench/lib/snapshot.js";
import { skipGasAssertionsUnderCoverage } from "../utils/coverage.js";

const { ethers } = await network.create();

/**
 * The regression guard of issue 8: the receipt gas of each hot path must equal bench/gas-snapshot.json exactly.
 * Gas on the in-process network is deterministic (fixed clock, seeded fleet, fixed deployment order), so any
 * difference is a change in the contracts or in what the benchmark sends.
 */
describe("Gas snapshot of the hot paths (bench/gas-snapshot.json)", function () {
  let expected: Snapshot;
  let actual: Snapshot;

  before(async function () {
    skipGasAssertionsUnderCoverage(this);
    expected = await readSnapshot();
    actual = snapshotOf(await measureGas(ethers, { hotPathsOnly: true }));
  });

  for (const id of HOT_PATHS) {
    it(`${id} uses exactly the gas in the snapshot`, function () {
      const recorded = expected[id];
      const measured = actual[id];
      if (recorded === undefined)
        expect.fail(`${id} is missing from bench/gas-snapshot.json: run \`${UPDATE_COMMAND}\``);
      if (measured === undefined) expect.fail(`${id} was not measured`);
      expect(
        measured,
        `${id} changed by ${describeChange(recorded, measured)}: if that is intended, run ` +
          `\`${UPDATE_COMMAND}\` and commit bench/gas-snapshot.json with the reason`,
      ).to.equal(recorded);
    });
  }

  it("holds no entry for a path that is no longer measured", function () {
    expect(Object.keys(expected).sort()).to.deep.equal([...HOT_PATHS].sort());
  });
});
