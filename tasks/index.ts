/**
 * The authorities' and operators' everyday administration commands, as Hardhat tasks under `platechain`:
 *
 *   npx hardhat --network <network> platechain <command> --flag value ...
 *
 * Every option is taken as text and checked by `scripts/lib/admin` (which names the bad flag and lists what is
 * accepted) before anything is sent. Each action module is loaded only when its task runs.
 */
import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";
import type { TaskDefinition } from "hardhat/types/tasks";

const NS = "platechain";

/** An option given as text (or not at all); the command validates it. */
function text<NameT extends string>(name: NameT, description: string) {
  return { name, description, type: ArgumentType.STRING_WITHOUT_DEFAULT as const, defaultValue: undefined };
}

const MANIFEST = text("manifest", "Deployment manifest (default: deployments/<network>.json)");
const FROM = text("from", "Account to sign with, one of the network's accounts (default: the first)");

type Builder = ReturnType<typeof task>;

/** A `platechain <name>` task with the flags every command takes. */
function command(name: string, description: string): Builder {
  return task([NS, name], description).addOption(MANIFEST).addOption(FROM) as unknown as Builder;
}

const VEHICLE = text("vehicle", "Vehicle id (1, 2, ...)");
const GANTRY = text("gantry", "Gantry id (0 to 4294967295)");
const FEES = text(
  "fees",
  "Fee per paying class in token units: five amounts in the order motorcycle,car,van,truck,bus " +
    '(e.g. "0.60,1.20,2.00,4.50,3.00") or all five named ("car=1.20,motorcycle=0.60,...")',
);

export const adminTasks: TaskDefinition[] = [
  emptyTask(NS, "platechain administration: vehicles, gantries, tariffs, roles, disputes, pause").build(),

  command("register-vehicle", "Register a vehicle and mint its passport (REGISTRAR_ROLE); prints the new vehicle id")
    .addOption(text("owner", "Owner's address (EIP-55 checksummed)"))
    .addOption(text("plate", "Address of the key in the plate's chip (checksummed)"))
    .addOption(text("vin", "Vehicle identification number (never sent: only its salted commitment is)"))
    .addOption(text("vinSalt", "Registrar's 32-byte VIN salt (default: env VIN_SALT; prefer the env)"))
    .addOption(text("class", "motorcycle, car, van, truck, bus or emergency"))
    .setAction(() => import("./actions/register-vehicle.js"))
    .build(),

  command("rotate-plate", "Bind a vehicle to a new plate key; the old one is revoked for good (REGISTRAR_ROLE)")
    .addOption(VEHICLE)
    .addOption(text("plate", "The new plate key's address (checksummed)"))
    .setAction(() => import("./actions/rotate-plate.js"))
    .build(),

  command("set-status", "Set a vehicle's status (REGULATOR_ROLE)")
    .addOption(VEHICLE)
    .addOption(text("status", "active, suspended, stolen or scrapped (scrapped is final)"))
    .addOption(text("reasonCode", "The authority's reason code, 0 to 4294967295 (recorded in the event)"))
    .setAction(() => import("./actions/set-status.js"))
    .build(),

  command("register-gantry", "Register a toll gantry with its payee, oracle keys and tariff (TOLL_ADMIN_ROLE)")
    .addOption(GANTRY)
    .addOption(text("payee", "Address credited with the gantry's revenue (checksummed)"))
    .addOption(text("oracleKeys", "Comma-separated oracle key addresses allowed to sign its scan batches"))
    .addOption(FEES)
    .setAction(() => import("./actions/register-gantry.js"))
    .build(),

  command("set-oracle-key", "Allow (--authorize) or stop (--revoke) one oracle key of a gantry (TOLL_ADMIN_ROLE)")
    .addOption(GANTRY)
    .addOption(text("key", "The oracle key's address (checksummed)"))
    .addFlag({ name: "authorize", description: "Allow the key to sign the gantry's batches" })
    .addFlag({ name: "revoke", description: "Stop the key signing the gantry's batches" })
    .setAction(() => import("./actions/set-oracle-key.js"))
    .build(),

  command("rotate-oracle-key", "Replace a gantry's oracle key by a new one in one transaction (TOLL_ADMIN_ROLE)")
    .addOption(GANTRY)
    .addOption(text("oldKey", "The key to stop (checksummed)"))
    .addOption(text("newKey", "The key to allow (checksummed)"))
    .setAction(() => import("./actions/rotate-oracle-key.js"))
    .build(),

  command("retire-gantry", "Retire a gantry now: its later scans are skipped (TOLL_ADMIN_ROLE)")
    .addOption(GANTRY)
    .setAction(() => import("./actions/retire-gantry.js"))
    .build(),

  command("set-tariff", "Schedule a gantry's next tariff (TOLL_ADMIN_ROLE)")
    .addOption(GANTRY)
    .addOption(FEES)
    .addOption(text("effectiveAt", "When it takes effect: unix seconds, YYYY-MM-DD (UTC) or ISO date-time with zone"))
    .setAction(() => import("./actions/set-tariff.js"))
    .build(),

  command("grant-role", "Grant a role on a platechain contract (the role's admin, DEFAULT_ADMIN_ROLE)")
    .addOption(text("contract", "registry, escrow or ledger"))
    .addOption(text("role", "registry: registrar, regulator; escrow: toll-admin, arbiter, pauser; ledger: reporter"))
    .addOption(text("account", "The account to grant it to (checksummed)"))
    .setAction(() => import("./actions/grant-role.js"))
    .build(),

  command("revoke-role", "Revoke a role on a platechain contract (the role's admin, DEFAULT_ADMIN_ROLE)")
    .addOption(text("contract", "registry, escrow or ledger"))
    .addOption(text("role", "registry: registrar, regulator; escrow: toll-admin, arbiter, pauser; ledger: reporter"))
    .addOption(text("account", "The account to revoke it from (checksummed)"))
    .setAction(() => import("./actions/revoke-role.js"))
    .build(),

  command("resolve-dispute", "Resolve an open toll dispute (ARBITER_ROLE)")
    .addOption(text("batch", "Batch id (1, 2, ...)"))
    .addOption(text("leaf", "Index of the disputed scan in the batch (0, 1, ...)"))
    .addFlag({ name: "uphold", description: "Uphold it: the fee goes back to the vehicle" })
    .addFlag({ name: "reject", description: "Reject it: the charge stands" })
    .setAction(() => import("./actions/resolve-dispute.js"))
    .build(),

  command("pause", "Pause the escrow's scans, revenue releases and claims (PAUSER_ROLE)")
    .setAction(() => import("./actions/pause.js"))
    .build(),

  command("unpause", "Lift the escrow's pause before it lapses (PAUSER_ROLE)")
    .setAction(() => import("./actions/unpause.js"))
    .build(),

  command("status", "Show a vehicle: class, status, owner, plate, balance and arrears (read-only)")
    .addOption(text("vehicle", "Vehicle id (or give --plate)"))
    .addOption(text("plate", "The plate's current key (or give --vehicle)"))
    .addFlag({ name: "json", description: "Print the report as one JSON object" })
    .setAction(() => import("./actions/status.js"))
    .build(),
];
