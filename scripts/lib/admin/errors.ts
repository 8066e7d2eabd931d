/**
 * The one error type the administration commands throw for anything the operator can fix: a bad flag, a missing
 * role, a manifest that does not match the network, a transaction the contract refuses. Hardhat's CLI prints such an
 * error as one line ("Error in community plugin platechain: ...") without a stack trace.
 */
import { HardhatPluginError } from "hardhat/plugins";

/** The plugin id Hardhat's CLI shows in front of every administration error. */
export const ADMIN_PLUGIN_ID = "platechain";

export class AdminError extends HardhatPluginError {
  constructor(message: string, cause?: Error) {
    super(ADMIN_PLUGIN_ID, message, cause);
    this.name = "AdminError";
  }
}

/** An error about one command-line flag; the message starts with the flag as typed on the command line. */
export function flagError(flag: string, problem: string): AdminError {
  return new AdminError(`--${toKebabCase(flag)} ${problem}`);
}

/** `vinSalt` -> `vin-salt`: how Hardhat spells an option on the command line. */
export function toKebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
