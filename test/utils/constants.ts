/**
 * Units and the escrow's deployment parameters that the test fixtures share: one place, so the fixtures of the
 * escrow, relayer and security tests deploy the same system.
 */
export const HOUR = 60n * 60n;
export const DAY = 24n * HOUR;
/** Seconds a new default admin waits before accepting the role. */
export const ADMIN_DELAY = 3n * DAY;
/** How long a settled batch's revenue is held for disputes. */
export const DISPUTE_WINDOW = 7n * DAY;
/** The oldest scan the escrow settles. */
export const MAX_SCAN_AGE = 2n * DAY;
/** How long a withdrawal request waits. */
export const WITHDRAWAL_NOTICE = 3n * DAY;
/** One US dollar of the 6-decimal test stablecoin. */
export const USD = 1_000_000n;
/** Fees per paying class (motorcycle, car, van, truck, bus), in 6-decimal token units. */
export const FEES: [bigint, bigint, bigint, bigint, bigint] = [USD, 2n * USD, 3n * USD, 5n * USD, 4n * USD];
