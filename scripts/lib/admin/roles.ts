/**
 * `grant-role` and `revoke-role`: hand a platechain role to an account or take it back, on the contract named by
 * `--contract`. The default admin is not handled here: it changes hands only through the contracts' two-step,
 * delayed handover.
 */
import { type AdminCommand, type AdminOutcome, withTx } from "./command.js";
import type { CommonFlags } from "./context.js";
import { AdminError, flagError } from "./errors.js";
import { CONTRACTS, type ContractKey, ROLES, canonicalName, roleConstantOf, roleId } from "./names.js";
import { parseAddress, parseChoice, required } from "./parse.js";

export interface RoleFlags extends CommonFlags {
  readonly contract?: string;
  readonly role?: string;
  readonly account?: string;
}

interface RoleParsed {
  readonly contract: ContractKey;
  /** The Solidity constant, e.g. "REGISTRAR_ROLE". */
  readonly roleConstant: string;
  readonly roleName: string;
  readonly account: string;
}

type SentOutcome = AdminOutcome & { readonly txHash: string };

const CONTRACT_CHOICES: Readonly<Record<string, ContractKey>> = {
  registry: "registry",
  escrow: "escrow",
  ledger: "ledger",
};

function parseRoleFlags(flags: RoleFlags): RoleParsed {
  const contract = parseChoice("contract", flags.contract, CONTRACT_CHOICES);
  const roles: Readonly<Record<string, string>> = ROLES[contract];
  const text = required("role", flags.role);
  const roleName = canonicalName(text);
  if (["admin", "default-admin", "default-admin-role"].includes(roleName)) {
    throw flagError(
      "role",
      "cannot be the default admin: it changes hands only through the contract's two-step, delayed handover " +
        "(beginDefaultAdminTransfer, then acceptDefaultAdminTransfer after the delay)",
    );
  }
  const roleConstant = roles[roleName];
  if (roleConstant === undefined) {
    throw flagError("role", `must be a role of the ${contract} (${Object.keys(roles).join(", ")}); got "${text}"`);
  }
  return { contract, roleConstant, roleName, account: parseAddress("account", flags.account) };
}

function roleCommand(grant: boolean): AdminCommand<RoleFlags, RoleParsed, SentOutcome> {
  return {
    parse: parseRoleFlags,
    async run(ctx, parsed) {
      const role = roleId(parsed.roleConstant);
      const adminRole = await ctx.roleAdmin(parsed.contract, role);
      await ctx.requireRole(parsed.contract, roleConstantOf(adminRole) ?? adminRole);
      const holds = await ctx.hasRole(parsed.contract, role, parsed.account);
      const where = `${parsed.roleConstant} on ${CONTRACTS[parsed.contract]} at ${ctx.addressOf(parsed.contract)}`;
      if (grant && holds) throw new AdminError(`${parsed.account} already holds ${where}: nothing to grant`);
      if (!grant && !holds) throw new AdminError(`${parsed.account} does not hold ${where}: nothing to revoke`);
      const contract =
        parsed.contract === "registry" ? ctx.registry : parsed.contract === "escrow" ? ctx.escrow : ctx.ledger;
      const method = grant ? "grantRole" : "revokeRole";
      const sent = await ctx.send(parsed.contract, method, () =>
        contract.getFunction(method).populateTransaction(role, parsed.account),
      );
      const line = grant ? `granted ${where} to ${parsed.account}` : `revoked ${where} from ${parsed.account}`;
      return { line: withTx(line, sent.hash), txHash: sent.hash };
    },
  };
}

/** `grant-role`: gives `--account` the role `--role` on `--contract`. Needs the role's admin (DEFAULT_ADMIN_ROLE). */
export const grantRoleCommand = roleCommand(true);

/** `revoke-role`: takes the role `--role` on `--contract` from `--account`. Needs DEFAULT_ADMIN_ROLE. */
export const revokeRoleCommand = roleCommand(false);
