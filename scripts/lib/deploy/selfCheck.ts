import { getAddress } from "ethers";

import { administeredContracts, type PlatechainContracts, roleId, roleTargets } from "./deploy.js";
import { type DeployParams, ROLE_NAMES, resolveHolder } from "./params.js";

export type CheckOutcome = "pass" | "pending" | "fail";

export interface CheckRow {
  readonly check: string;
  readonly expected: string;
  readonly actual: string;
  readonly outcome: CheckOutcome;
}

/**
 * Reads the deployed suite back from the chain and compares it with the parameters: who holds each role, the
 * admin of each contract (a handover still inside its delay is "pending", not a failure), the durations, the
 * wiring between contracts, and that the deployer kept no role it was not configured to hold.
 */
export async function selfCheck(
  contracts: PlatechainContracts,
  params: DeployParams,
  deployer: string,
): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  const row = (check: string, expected: unknown, actual: unknown, outcome?: CheckOutcome) =>
    rows.push({
      check,
      expected: String(expected),
      actual: String(actual),
      outcome: outcome ?? (String(expected) === String(actual) ? "pass" : "fail"),
    });

  const registryAddress = await contracts.registry.getAddress();
  row("TollEscrow.registry()", registryAddress, await contracts.escrow.registry());
  row("DrivingRecordLedger.registry()", registryAddress, await contracts.ledger.registry());
  row("TollEscrow.token()", getAddress(contracts.tokenAddress), await contracts.escrow.token());
  row("TollEscrow.disputeWindow()", params.disputeWindowSeconds, await contracts.escrow.disputeWindow());
  row("TollEscrow.withdrawalNotice()", params.withdrawalNoticeSeconds, await contracts.escrow.withdrawalNotice());
  row("TollEscrow.maxScanAge()", params.maxScanAgeSeconds, await contracts.escrow.maxScanAge());
  row("VehicleRegistry.defaultAdminDelay()", params.adminDelaySeconds, await contracts.registry.defaultAdminDelay());
  row(
    "DrivingRecordLedger.defaultAdminDelay()",
    params.adminDelaySeconds,
    await contracts.ledger.defaultAdminDelay(),
  );

  const admin = resolveHolder(params.admin, deployer);
  for (const { name, contract } of administeredContracts(contracts)) {
    const current = await contract.defaultAdmin();
    const pending = await contract.pendingDefaultAdmin();
    if (current === admin) row(`${name} admin`, admin, current);
    else if (pending.newAdmin === admin) {
      const when = new Date(Number(pending.schedule) * 1000).toISOString();
      row(`${name} admin`, admin, `${current} until ${admin} accepts (from ${when})`, "pending");
    } else row(`${name} admin`, admin, current, "fail");
  }

  const targets = roleTargets(contracts);
  for (const name of ROLE_NAMES) {
    const target = targets[name];
    const role = roleId(target.role);
    const holders = params.roles[name].map((h) => resolveHolder(h, deployer));
    for (const holder of holders) {
      row(`${target.label} held by ${holder}`, true, await target.contract.hasRole(role, holder));
    }
    if (!holders.includes(deployer)) {
      row(`${target.label} not kept by deployer ${deployer}`, false, await target.contract.hasRole(role, deployer));
    }
  }
  return rows;
}

/** The self-check as a plain-text table, one line per check, failures easy to spot. */
export function formatCheck(rows: readonly CheckRow[]): string {
  const mark: Record<CheckOutcome, string> = { pass: "ok  ", pending: "wait", fail: "FAIL" };
  const width = Math.max(...rows.map((r) => r.check.length));
  const lines = rows.map((r) => {
    const detail = r.outcome === "pass" ? r.actual : `expected ${r.expected}, got ${r.actual}`;
    return `  [${mark[r.outcome]}] ${r.check.padEnd(width)}  ${detail}`;
  });
  const failed = rows.filter((r) => r.outcome === "fail").length;
  const pending = rows.filter((r) => r.outcome === "pending").length;
  lines.push(`  ${rows.length} checks: ${rows.length - failed - pending} ok, ${pending} pending, ${failed} failed`);
  return lines.join("\n");
}
