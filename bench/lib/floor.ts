/**
 * The gas floor of each benchmark figure: what ANY correct design must pay for that operation under the osaka gas
 * schedule, counting only the storage it must touch, the calldata it must carry, the logs an owner needs to find it
 * and the cryptography it must run. Execution overhead (stack work, ABI decoding, call frames) is not counted, so a
 * real contract always sits above its floor; the ratio says by how much.
 *
 * Each function below has a section of the same name in bench/FLOOR.md, which writes the arithmetic out by hand;
 * the comments name the same items in the same order. Keep the two in step.
 */
import { getBytes } from "ethers";

/** The osaka gas schedule, as far as the floors need it (EIP-2929, EIP-2200/3529, EIP-7623, yellow paper). */
export const GAS = {
  /** Every transaction. */
  TX_BASE: 21_000,
  /** EIP-2028 calldata: 4 per zero byte, 16 per non-zero byte (4 "tokens" of 4 gas). */
  CALLDATA_ZERO_BYTE: 4,
  CALLDATA_NONZERO_BYTE: 16,
  /** EIP-7623: a transaction pays at least 21,000 + 10 per calldata token (zero byte = 1 token, non-zero = 4). */
  CALLDATA_FLOOR_PER_TOKEN: 10,
  /** EIP-2929 first touch of a slot in a transaction. */
  COLD_SLOAD: 2_100,
  /** EIP-2929 warm read, and an SSTORE to a slot already written in the same transaction. */
  WARM_ACCESS: 100,
  /** SSTORE zero -> non-zero (plus COLD_SLOAD when the slot is cold). */
  SSTORE_SET: 20_000,
  /** SSTORE non-zero -> non-zero (5,000 - COLD_SLOAD; plus COLD_SLOAD when the slot is cold). */
  SSTORE_RESET: 2_900,
  /** EIP-3529 refund for clearing a slot that was non-zero when the transaction started. */
  SSTORE_CLEARS_REFUND: 4_800,
  /** EIP-3529: refunds are capped at a fifth of the gas used. */
  MAX_REFUND_QUOTIENT: 5,
  /** EIP-2929 first touch of another account (CALL, STATICCALL, EXTCODE*, BALANCE). */
  COLD_ACCOUNT_ACCESS: 2_600,
  /** LOG0..LOG4: 375 + 375 per topic + 8 per data byte. */
  LOG: 375,
  LOG_TOPIC: 375,
  LOG_DATA_BYTE: 8,
  /** KECCAK256: 30 + 6 per 32-byte word hashed. */
  KECCAK: 30,
  KECCAK_WORD: 6,
  /** The ecrecover precompile. */
  ECRECOVER: 3_000,
} as const;

/** Cold SLOAD then SSTORE non-zero -> non-zero: updating a balance or counter that already exists. */
export const COLD_UPDATE = GAS.COLD_SLOAD + GAS.SSTORE_RESET; // 5,000
/** Cold SSTORE zero -> non-zero: creating a record. */
export const COLD_CREATE = GAS.COLD_SLOAD + GAS.SSTORE_SET; // 22,100

/** One LOG with `topics` topics (the event signature counts as one when present) and `dataBytes` of data. */
export function logGas(topics: number, dataBytes: number): number {
  return GAS.LOG + GAS.LOG_TOPIC * topics + GAS.LOG_DATA_BYTE * dataBytes;
}

/** KECCAK256 over `bytes` bytes. */
export function keccakGas(bytes: number): number {
  return GAS.KECCAK + GAS.KECCAK_WORD * Math.ceil(bytes / 32);
}

export interface CalldataCount {
  readonly zeroBytes: number;
  readonly nonZeroBytes: number;
}

/** Zero and non-zero bytes of a 0x-hex string or byte array. */
export function countBytes(data: string | Uint8Array): CalldataCount {
  const bytes = typeof data === "string" ? getBytes(data) : data;
  let zeroBytes = 0;
  for (const byte of bytes) if (byte === 0) zeroBytes++;
  return { zeroBytes, nonZeroBytes: bytes.length - zeroBytes };
}

/** One line of a floor: `count` times `gasEach`, or a calldata or refund line. */
export interface FloorItem {
  readonly what: string;
  readonly count: number;
  readonly gasEach: number;
  readonly gas: number;
  readonly kind: "execution" | "calldata" | "refund";
}

export interface Floor {
  readonly items: readonly FloorItem[];
  /** Standard calldata gas: 4 per zero byte, 16 per non-zero byte. */
  readonly calldataGas: number;
  /** EIP-7623 tokens: zero bytes + 4 x non-zero bytes. */
  readonly calldataTokens: number;
  /** Everything but the base cost and calldata, before refunds. */
  readonly executionGas: number;
  /** Refund after the EIP-3529 cap. */
  readonly refund: number;
  /** What the transaction must cost at least, as a receipt's gasUsed would show it. */
  readonly total: number;
  /** How many units (scans, records) the transaction settles. */
  readonly units: number;
  /** total / units. */
  readonly perUnit: number;
}

/**
 * Collects the items of one transaction's floor and totals them the way the EVM does: base + calldata + execution,
 * less the capped refund, and never under the EIP-7623 calldata floor.
 */
export class FloorBuilder {
  private readonly items: FloorItem[] = [];
  private zeroBytes = 0;
  private nonZeroBytes = 0;

  /** `count` times `gasEach` of execution (storage, logs, hashing, precompiles, account access). */
  add(what: string, count: number, gasEach: number): this {
    if (count > 0) this.items.push({ what, count, gasEach, gas: count * gasEach, kind: "execution" });
    return this;
  }

  /** Calldata the transaction must carry, priced by its actual bytes. */
  calldata(what: string, data: string | Uint8Array, count = 1): this {
    const { zeroBytes, nonZeroBytes } = countBytes(data);
    return this.calldataBytes(what, { zeroBytes: zeroBytes * count, nonZeroBytes: nonZeroBytes * count });
  }

  /** Calldata given as byte counts. */
  calldataBytes(what: string, bytes: CalldataCount): this {
    this.zeroBytes += bytes.zeroBytes;
    this.nonZeroBytes += bytes.nonZeroBytes;
    const gas = bytes.zeroBytes * GAS.CALLDATA_ZERO_BYTE + bytes.nonZeroBytes * GAS.CALLDATA_NONZERO_BYTE;
    const detail = `${bytes.nonZeroBytes} non-zero + ${bytes.zeroBytes} zero bytes`;
    this.items.push({ what: `${what} (${detail})`, count: 1, gasEach: gas, gas, kind: "calldata" });
    return this;
  }

  /** A refund the transaction earns (before the EIP-3529 cap). */
  refund(what: string, count: number, gasEach: number): this {
    if (count > 0) this.items.push({ what, count, gasEach, gas: -count * gasEach, kind: "refund" });
    return this;
  }

  build(units = 1): Floor {
    const calldataGas = this.zeroBytes * GAS.CALLDATA_ZERO_BYTE + this.nonZeroBytes * GAS.CALLDATA_NONZERO_BYTE;
    const calldataTokens = this.zeroBytes + 4 * this.nonZeroBytes;
    const executionGas = sum(this.items.filter((i) => i.kind === "execution").map((i) => i.gas));
    const refundCounter = -sum(this.items.filter((i) => i.kind === "refund").map((i) => i.gas));
    const beforeRefund = GAS.TX_BASE + calldataGas + executionGas;
    const refund = Math.min(refundCounter, Math.floor(beforeRefund / GAS.MAX_REFUND_QUOTIENT));
    const eip7623Floor = GAS.TX_BASE + GAS.CALLDATA_FLOOR_PER_TOKEN * calldataTokens;
    const total = Math.max(beforeRefund - refund, eip7623Floor);
    const perUnit = units === 0 ? total : total / units;
    return { items: [...this.items], calldataGas, calldataTokens, executionGas, refund, total, units, perUnit };
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Toll scans (FLOOR.md "scanBatchFloor")
// ---------------------------------------------------------------------------------------------------------------

export interface ScanBatchInput {
  /** The scan records exactly as sent: 16 bytes each, [vehicleId uint48 | timestamp uint40 | sequence uint40]. */
  readonly scans: string;
  /** How many different vehicles the batch charges. */
  readonly distinctVehicles: number;
  /** The oracle's signature as sent (65 bytes r, s, v). */
  readonly signature: string;
  /** The gantry id as the 4 bytes of a uint32. */
  readonly gantryId: number;
}

/** Bytes in one scan record of the wire format (ITollEscrow). */
export const SCAN_RECORD_BYTES = 16;

/**
 * The floor of one `submitScans` transaction. Per batch:
 *   1. 21,000 base
 *   2. calldata: the scan records, the oracle signature, the gantry id (actual bytes)
 *   3. hash the scan records for the signed digest: keccak over 16 x N bytes, and one 3-word keccak binding the
 *      digest to the gantry and the escrow's domain
 *   4. ecrecover the oracle's key: 3,000
 *   5. read the gantry's oracle key (and tariff): one cold slot, 2,100
 *   6. reach the registry, which holds the vehicles' status: one cold account, 2,600
 *   7. record the batch's commitment, which a dispute proves against: one new slot, 22,100
 *   8. hold the batch's revenue for the dispute window: one existing slot updated, 5,000
 *   9. mark the batch's sequences settled: one existing per-gantry slot updated, 5,000
 * Per distinct vehicle:
 *   10. debit its balance: one existing slot updated, 5,000
 *   11. read its class and status: one cold slot, 2,100
 *   12. a log its owner can filter by vehicle id: LOG1 with no data, 750
 * Per scan: nothing beyond its calldata (2) and its share of the hashing (3).
 */
export function scanBatchFloor(input: ScanBatchInput): Floor {
  const scanBytes = getBytes(input.scans).length;
  if (scanBytes === 0 || scanBytes % SCAN_RECORD_BYTES !== 0) {
    throw new RangeError(`scans must be a whole number of ${SCAN_RECORD_BYTES}-byte records, got ${scanBytes} bytes`);
  }
  const vehicles = input.distinctVehicles;
  return scanBatchItems(new FloorBuilder(), input.signature, input.gantryId)
    .calldata("scan records", input.scans)
    .add("keccak over the scan records: words", Math.ceil(scanBytes / 32), GAS.KECCAK_WORD)
    .add("vehicle balance debit: slot update", vehicles, COLD_UPDATE)
    .add("vehicle class and status: cold read", vehicles, GAS.COLD_SLOAD)
    .add("owner-findable log: LOG1, no data", vehicles, logGas(1, 0))
    .build(scanBytes / SCAN_RECORD_BYTES);
}

/** The per-batch part of {@link scanBatchFloor}, whatever the scans: items 1 to 9 without the scan records. */
export function scanBatchFixedFloor(signature: string, gantryId: number): Floor {
  return scanBatchItems(new FloorBuilder(), signature, gantryId).build(0);
}

/**
 * The per-scan part of {@link scanBatchFloor} for scans of vehicles not yet in the batch, averaged over `records`:
 * items 10 to 12, each record's calldata and its half word of hashing (two records per 32-byte word). No base cost.
 */
export function scanMarginalFloor(records: readonly string[]): Floor {
  if (records.length === 0) throw new RangeError("no scan records");
  let zeroBytes = 0;
  let nonZeroBytes = 0;
  for (const record of records) {
    const count = countBytes(record);
    zeroBytes += count.zeroBytes;
    nonZeroBytes += count.nonZeroBytes;
  }
  const calldata = (zeroBytes * GAS.CALLDATA_ZERO_BYTE + nonZeroBytes * GAS.CALLDATA_NONZERO_BYTE) / records.length;
  const item = (what: string, gasEach: number, kind: FloorItem["kind"] = "execution"): FloorItem => ({
    what,
    count: 1,
    gasEach,
    gas: gasEach,
    kind,
  });
  const items = [
    item("scan record calldata (average)", calldata, "calldata"),
    item("keccak over the record: half a word", (GAS.KECCAK_WORD * SCAN_RECORD_BYTES) / 32),
    item("vehicle balance debit: slot update", COLD_UPDATE),
    item("vehicle class and status: cold read", GAS.COLD_SLOAD),
    item("owner-findable log: LOG1, no data", logGas(1, 0)),
  ];
  const executionGas = sum(items.filter((i) => i.kind === "execution").map((i) => i.gas));
  const total = calldata + executionGas;
  const calldataTokens = (zeroBytes + 4 * nonZeroBytes) / records.length;
  return { items, calldataGas: calldata, calldataTokens, executionGas, refund: 0, total, units: 1, perUnit: total };
}

function scanBatchItems(builder: FloorBuilder, signature: string, gantryId: number): FloorBuilder {
  return builder
    .calldata("oracle signature", signature)
    .calldata("gantry id", uint32Bytes(gantryId))
    .add("keccak over the scan records: base", 1, GAS.KECCAK)
    .add("keccak binding gantry and domain (3 words)", 1, keccakGas(96))
    .add("ecrecover of the oracle key", 1, GAS.ECRECOVER)
    .add("gantry oracle key and tariff: cold read", 1, GAS.COLD_SLOAD)
    .add("registry: cold account access", 1, GAS.COLD_ACCOUNT_ACCESS)
    .add("batch commitment for disputes: new slot", 1, COLD_CREATE)
    .add("revenue held for the dispute window: slot update", 1, COLD_UPDATE)
    .add("gantry settled-sequence state: slot update", 1, COLD_UPDATE);
}

function uint32Bytes(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

// ---------------------------------------------------------------------------------------------------------------
// Vehicle registration (FLOOR.md "registerFloor")
// ---------------------------------------------------------------------------------------------------------------

export interface RegisterInput {
  /** owner (20) | plate (20) | vinCommitment (32) | class (1), tight-packed as the call's values. */
  readonly values: string;
  /** Whether the owner holds no passport yet (their ERC-721 balance slot is created, not updated). */
  readonly newOwner: boolean;
}

/**
 * The floor of `registerVehicle`:
 *   1. 21,000 base
 *   2. calldata: owner, plate, VIN commitment, class (actual bytes, no ABI padding, no selector)
 *   3. the caller's registrar role: one cold read, 2,100
 *   4. the vehicle's record, owner (160 bits) and plate key (160 bits) with class and status: two new slots (two
 *      addresses do not fit one slot), 2 x 22,100
 *   5. plate -> vehicle, for lookups and so a plate serves one vehicle only: one new slot, 22,100
 *   6. VIN commitment -> vehicle, so a VIN is registered once: one new slot, 22,100
 *   7. the id counter (ids are sequential): one slot update, 5,000
 *   8. the owner's ERC-721 balance: one new slot for a first passport (22,100), else an update (5,000)
 *   9. the ERC-721 Transfer event the standard requires on mint: LOG4 with no data, 1,875
 */
export function registerFloor(input: RegisterInput): Floor {
  return new FloorBuilder()
    .calldata("owner, plate, VIN commitment, class", input.values)
    .add("registrar role: cold read", 1, GAS.COLD_SLOAD)
    .add("vehicle record (owner, plate, class, status): new slots", 2, COLD_CREATE)
    .add("plate -> vehicle: new slot", 1, COLD_CREATE)
    .add("VIN commitment -> vehicle: new slot", 1, COLD_CREATE)
    .add("vehicle id counter: slot update", 1, COLD_UPDATE)
    .add(
      input.newOwner ? "owner's passport count: new slot" : "owner's passport count: slot update",
      1,
      input.newOwner ? COLD_CREATE : COLD_UPDATE,
    )
    .add("ERC-721 Transfer: LOG4, no data", 1, logGas(4, 0))
    .build();
}

// ---------------------------------------------------------------------------------------------------------------
// Deposits (FLOOR.md "depositFloor", "depositWithPermitFloor")
// ---------------------------------------------------------------------------------------------------------------

export interface DepositInput {
  /** vehicleId (uint48) and amount (uint96), tight-packed as the call's values. */
  readonly values: string;
}

/**
 * The floor of a deposit into a vehicle's balance that already exists, paid with an ERC-20 the payer approved
 * without limit, by a payer who holds more of it:
 *   1. 21,000 base
 *   2. calldata: vehicle id and amount (actual bytes)
 *   3. the vehicle exists (money paid to no vehicle would be stranded): registry cold account access, 2,600,
 *      and its status, one cold read, 2,100
 *   4. reach the token: one cold account, 2,600
 *   5. the unlimited allowance: one cold read, 2,100 (an unlimited allowance is not written)
 *   6. the payer's token balance: one slot update, 5,000
 *   7. the escrow's token balance: one slot update, 5,000
 *   8. the ERC-20 Transfer event: LOG3 with 32 bytes of data, 1,756
 *   9. the vehicle's balance: one slot update, 5,000
 *   10. a log the owner can filter by vehicle id: LOG1 with no data, 750
 */
export function depositFloor(input: DepositInput): Floor {
  return depositItems(new FloorBuilder(), input).add("unlimited allowance: cold read", 1, GAS.COLD_SLOAD).build();
}

export interface DepositWithPermitInput extends DepositInput {
  /** The permit's deadline (uint40), v, r, s tight-packed as the call's values. */
  readonly permit: string;
}

/**
 * The floor of a deposit paid with an EIP-2612 permit for exactly the amount, by a payer who has signed permits
 * before (their nonce slot exists): deposit items 1 to 4 and 6 to 10, and instead of item 5:
 *   11. calldata: the permit's deadline, v, r, s (actual bytes)
 *   12. the permit digest: keccak over the 6-word Permit struct and over the 66-byte EIP-712 envelope
 *   13. ecrecover of the payer: 3,000
 *   14. the payer's permit nonce: one slot update, 5,000
 *   15. the allowance set by the permit: one new slot, 22,100; spent back to zero by the transfer, 100 (warm),
 *       which refunds 19,900 (EIP-3529: 20,000 - 100 for a slot that started at zero)
 *   16. the ERC-20 Approval event EIP-2612 emits: LOG3 with 32 bytes of data, 1,756
 */
export function depositWithPermitFloor(input: DepositWithPermitInput): Floor {
  return depositItems(new FloorBuilder(), input)
    .calldata("permit deadline, v, r, s", input.permit)
    .add("permit struct hash (6 words)", 1, keccakGas(192))
    .add("EIP-712 envelope hash (66 bytes)", 1, keccakGas(66))
    .add("ecrecover of the payer", 1, GAS.ECRECOVER)
    .add("payer's permit nonce: slot update", 1, COLD_UPDATE)
    .add("allowance set by the permit: new slot", 1, COLD_CREATE)
    .add("allowance spent back to zero: warm write", 1, GAS.WARM_ACCESS)
    .refund("allowance slot restored to zero", 1, GAS.SSTORE_SET - GAS.WARM_ACCESS)
    .add("ERC-20 Approval: LOG3, 32 bytes", 1, logGas(3, 32))
    .build();
}

function depositItems(builder: FloorBuilder, input: DepositInput): FloorBuilder {
  return builder
    .calldata("vehicle id, amount", input.values)
    .add("registry: cold account access", 1, GAS.COLD_ACCOUNT_ACCESS)
    .add("vehicle status: cold read", 1, GAS.COLD_SLOAD)
    .add("token: cold account access", 1, GAS.COLD_ACCOUNT_ACCESS)
    .add("payer's token balance: slot update", 1, COLD_UPDATE)
    .add("escrow's token balance: slot update", 1, COLD_UPDATE)
    .add("ERC-20 Transfer: LOG3, 32 bytes", 1, logGas(3, 32))
    .add("vehicle balance: slot update", 1, COLD_UPDATE)
    .add("owner-findable log: LOG1, no data", 1, logGas(1, 0));
}

// ---------------------------------------------------------------------------------------------------------------
// Operators' revenue (FLOOR.md "releaseFloor", "claimFloor")
// ---------------------------------------------------------------------------------------------------------------

/**
 * The floor of releasing one batch's held revenue once its dispute window has closed, to a payee whose claimable
 * revenue is already non-zero:
 *   1. 21,000 base
 *   2. calldata: the batch id (actual bytes)
 *   3. the batch's settlement time, open disputes and held revenue: one slot read and updated (held to zero,
 *      marked released; the slot keeps other non-zero fields), 5,000
 *   4. the gantry's payee: one cold read, 2,100
 *   5. the payee's claimable revenue: one slot update, 5,000
 *   6. a log the payee can filter by: LOG1 with no data, 750
 */
export function releaseFloor(batchId: string): Floor {
  return new FloorBuilder()
    .calldata("batch id", batchId)
    .add("batch record: slot update", 1, COLD_UPDATE)
    .add("gantry payee: cold read", 1, GAS.COLD_SLOAD)
    .add("payee's claimable revenue: slot update", 1, COLD_UPDATE)
    .add("payee-findable log: LOG1, no data", 1, logGas(1, 0))
    .build();
}

/**
 * The floor of a payee claiming its revenue to an account that already holds the token:
 *   1. 21,000 base
 *   2. calldata: the recipient (actual bytes)
 *   3. the payee's claimable revenue: read, 2,100, and cleared, 2,900, which refunds 4,800
 *   4. reach the token: one cold account, 2,600
 *   5. the escrow's token balance: one slot update, 5,000
 *   6. the recipient's token balance: one slot update, 5,000
 *   7. the ERC-20 Transfer event: LOG3 with 32 bytes of data, 1,756
 *   8. a log the payee can filter by: LOG1 with no data, 750
 */
export function claimFloor(recipient: string): Floor {
  return new FloorBuilder()
    .calldata("recipient", recipient)
    .add("claimable revenue: read and clear", 1, COLD_UPDATE)
    .refund("claimable revenue cleared", 1, GAS.SSTORE_CLEARS_REFUND)
    .add("token: cold account access", 1, GAS.COLD_ACCOUNT_ACCESS)
    .add("escrow's token balance: slot update", 1, COLD_UPDATE)
    .add("recipient's token balance: slot update", 1, COLD_UPDATE)
    .add("ERC-20 Transfer: LOG3, 32 bytes", 1, logGas(3, 32))
    .add("payee-findable log: LOG1, no data", 1, logGas(1, 0))
    .build();
}

// ---------------------------------------------------------------------------------------------------------------
// Disputes (FLOOR.md "disputeFloor")
// ---------------------------------------------------------------------------------------------------------------

export interface DisputeInput {
  /** The batch id and leaf index tight-packed, as the call's values. */
  readonly reference: string;
  /** The disputed scan's leaf as committed: its 16-byte record and its fee. */
  readonly leaf: string;
}

/**
 * The floor of an owner disputing one charged scan:
 *   1. 21,000 base
 *   2. calldata: batch id, leaf index and the disputed scan with its fee (actual bytes); no design can prove the
 *      scan with less than the scan itself, so proofs beyond it (sibling hashes, other leaves) are not counted
 *   3. the batch's commitment: one cold read, 2,100, and one keccak over the leaf, 36
 *   4. the batch's open-dispute count, which holds its revenue back: one slot update, 5,000
 *   5. the vehicle's owner, who alone may dispute: registry cold account access, 2,600, one cold read, 2,100
 *   6. the dispute itself, so a scan is disputed once and the arbiter can resolve it: one new slot, 22,100
 *   7. a log the arbiter can filter by: LOG1 with no data, 750
 */
export function disputeFloor(input: DisputeInput): Floor {
  return new FloorBuilder()
    .calldata("batch id, leaf index", input.reference)
    .calldata("disputed scan and fee", input.leaf)
    .add("batch commitment: cold read", 1, GAS.COLD_SLOAD)
    .add("keccak over the leaf", 1, keccakGas(getBytes(input.leaf).length))
    .add("batch open-dispute count: slot update", 1, COLD_UPDATE)
    .add("registry: cold account access", 1, GAS.COLD_ACCOUNT_ACCESS)
    .add("vehicle owner: cold read", 1, GAS.COLD_SLOAD)
    .add("dispute record: new slot", 1, COLD_CREATE)
    .add("arbiter-findable log: LOG1, no data", 1, logGas(1, 0))
    .build();
}

// ---------------------------------------------------------------------------------------------------------------
// Driving records (FLOOR.md "recordBatchFloor")
// ---------------------------------------------------------------------------------------------------------------

export interface RecordBatchInput {
  /** The records exactly as sent (IDrivingRecordLedger wire format, 74 bytes each, no plate signatures). */
  readonly records: string;
  /** Record size on the wire. */
  readonly recordBytes: number;
}

/**
 * The floor of appending N reporter-asserted records of N vehicles that already have records (a vehicle with a chain
 * is known to be registered, and registration is never undone, so the registry need not be asked again). Per batch:
 *   1. 21,000 base
 *   2. the caller's reporter role: one cold read, 2,100
 * Per record:
 *   3. calldata: the record (actual bytes)
 *   4. the vehicle's tamper-evident chain state (head, count, last period end): one slot update, 5,000
 *   5. link the record into the chain: keccak over head, index, reporter and record
 *   6. a log an insurer can filter by vehicle id: LOG1 with no data, 750 (the record itself is in the calldata)
 */
export function recordBatchFloor(input: RecordBatchInput): Floor {
  const bytes = getBytes(input.records);
  if (bytes.length === 0 || bytes.length % input.recordBytes !== 0) {
    throw new RangeError(`records must be whole ${input.recordBytes}-byte records, got ${bytes.length} bytes`);
  }
  const count = bytes.length / input.recordBytes;
  const linkBytes = 24 + 3 + 20 + input.recordBytes;
  return new FloorBuilder()
    .add("reporter role: cold read", 1, GAS.COLD_SLOAD)
    .calldata("records", bytes)
    .add("vehicle chain state: slot update", count, COLD_UPDATE)
    .add(`chain link: keccak over ${linkBytes} bytes`, count, keccakGas(linkBytes))
    .add("insurer-findable log: LOG1, no data", count, logGas(1, 0))
    .build(count);
}
