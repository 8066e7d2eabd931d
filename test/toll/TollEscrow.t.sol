// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

import {ITollEscrow} from "../../contracts/interfaces/ITollEscrow.sol";
import {IVehicleRegistry} from "../../contracts/interfaces/IVehicleRegistry.sol";
import {TollEscrow} from "../../contracts/toll/TollEscrow.sol";
import {Vm} from "../utils/Vm.sol";
import {TollEscrowSetup} from "./TollEscrowSetup.sol";

// Tests state rules as written and favour clarity over gas.
// solhint-disable gas-small-strings, gas-strict-inequalities, gas-increment-by-one, immutable-vars-naming

/// @notice An 18-decimal token, as DAI is: a stablecoin a 48-bit fee cannot price.
contract EighteenDecimalToken is ERC20 {
    constructor() ERC20("Eighteen", "E18") {}
}

/// @notice Unit and fuzz tests of TollEscrow's rules, each fuzz test next to a concrete twin in plain values.
contract TollEscrowTest is TollEscrowSetup {
    uint256 internal car;
    uint256 internal truck;

    function setUp() public {
        _deployEscrow();
        car = _registerVehicle(OWNER, IVehicleRegistry.VehicleClass.Car);
        truck = _registerVehicle(OWNER, IVehicleRegistry.VehicleClass.Truck);
    }

    // --- deployment -----------------------------------------------------------------------------------------------

    function test_constructor_refusesATokenWithMoreThanNineDecimals() public {
        EighteenDecimalToken dai = new EighteenDecimalToken();
        vm.expectRevert(abi.encodeWithSelector(ITollEscrow.TollEscrowUnsupportedDecimals.selector, 18));
        new TollEscrow(registry, dai, address(this), DISPUTE_WINDOW, WITHDRAWAL_NOTICE, MAX_SCAN_AGE);
    }

    // --- signatures ---------------------------------------------------------------------------------------------

    function test_scanBatchDigest_isTheEip712DigestOfScanBatch() public view {
        bytes memory scans = _record(car, START, 1);
        assertEq(escrow.scanBatchDigest(GANTRY, scans), _expectedDigest(GANTRY, scans), "digest");
    }

    function testFuzz_scanBatchDigest_isTheEip712DigestOfScanBatch(uint32 gantryId, bytes calldata scans) public view {
        assertEq(escrow.scanBatchDigest(gantryId, scans), _expectedDigest(gantryId, scans), "digest");
    }

    function test_submitScans_refusesAnotherGantrysKey() public {
        bytes memory scans = _record(car, START, 1);
        bytes memory signature = _sign(GANTRY, scans, OTHER_ORACLE_KEY);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITollEscrow.TollEscrowInvalidSignature.selector, GANTRY, vm.addr(OTHER_ORACLE_KEY)
            )
        );
        escrow.submitScans(GANTRY, scans, signature);
    }

    function testFuzz_submitScans_refusesAnyKeyButTheGantrysOracle(uint256 privateKey) public {
        privateKey = bound(privateKey, 1, 2 ** 250);
        vm.assume(privateKey != ORACLE_KEY);
        bytes memory scans = _record(car, START, 1);
        bytes memory signature = _sign(GANTRY, scans, privateKey);
        vm.expectRevert(
            abi.encodeWithSelector(ITollEscrow.TollEscrowInvalidSignature.selector, GANTRY, vm.addr(privateKey))
        );
        escrow.submitScans(GANTRY, scans, signature);
    }

    function test_submitScans_refusesASignatureForAnotherChain() public {
        bytes memory scans = _record(car, START, 1);
        bytes memory signature = _sign(GANTRY, scans, ORACLE_KEY);
        vm.chainId(block.chainid + 1);
        vm.expectRevert();
        escrow.submitScans(GANTRY, scans, signature);
    }

    // --- charging -----------------------------------------------------------------------------------------------

    function test_submitScans_chargesTheClassFee() public {
        _fund(car, 10 * USD);
        _fund(truck, 10 * USD);
        uint256 batchId = _submit(GANTRY, bytes.concat(_record(car, START, 1), _record(truck, START, 2)));
        assertEq(batchId, 1, "batch id");
        assertEq(_balance(car), 8 * USD, "car balance");
        assertEq(_balance(truck), 5 * USD, "truck balance");
        assertEq(escrow.batch(1).held, CAR_FEE + TRUCK_FEE, "held");
        _assertBalanced();
    }

    /// @dev Any fee against any balance: the balance pays what it can, the rest is arrears, nothing is lost.
    function testFuzz_submitScans_chargesOrRecordsArrears(uint256 fee, uint256 balance) public {
        fee = bound(fee, 1, escrow.MAX_FEE());
        balance = bound(balance, 0, 2 * fee);
        escrow.registerGantry(9, OPERATOR, _keys(ORACLE_KEY), _fees(0, fee, 0, 0, 0));
        if (balance != 0) _fund(car, balance);
        bytes memory scans = _record(car, START, 1);
        escrow.submitScans(9, scans, _sign(9, scans, ORACLE_KEY));
        uint256 paid = balance < fee ? balance : fee;
        assertEq(_balance(car), balance - paid, "balance");
        assertEq(_arrears(car), fee - paid, "arrears");
        assertEq(escrow.debtOf(car, 1), fee - paid, "debt to the batch");
        assertEq(escrow.batch(1).held, paid, "held");
        _assertBalanced();
    }

    function test_submitScans_skipsReplayedScan() public {
        _fund(car, 10 * USD);
        bytes memory scans = _record(car, START, 1);
        _submit(GANTRY, scans);
        uint256 batchId = _submit(GANTRY, scans);
        assertEq(batchId, 0, "a replay records no batch");
        assertEq(_balance(car), 8 * USD, "charged once");
    }

    /// @dev A sequence sent any number of times, in one batch or several, is charged exactly once.
    function testFuzz_submitScans_chargesEachSequenceOnce(uint40 sequence, uint8 copies, uint8 batches) public {
        copies = uint8(bound(copies, 1, 8));
        batches = uint8(bound(batches, 1, 4));
        _fund(car, 10 * USD);
        bytes memory scans;
        for (uint256 i; i < copies; ++i) {
            scans = bytes.concat(scans, _record(car, START, sequence));
        }
        for (uint256 i; i < batches; ++i) {
            _submit(GANTRY, scans);
        }
        assertEq(_balance(car), 8 * USD, "charged once");
        assertTrue(_settled(GANTRY, sequence), "settled");
        assertEq(escrow.totalBatches(), 1, "one batch charged");
    }

    /// @dev Whatever gas submitScansWithinGas is given (past what the checks before the scan loop take), it settles a
    /// prefix of the batch and defers the rest, unsettled, instead of running out of gas; the books balance. The
    /// scans are the worst case: distinct stolen vehicles never funded, each in a bitmap word of its own.
    function testFuzz_submitScansWithinGas_settlesAPrefixAndDefersTheRest(uint256 gasLimit, uint256 count) public {
        count = bound(count, 1, 24);
        gasLimit = bound(gasLimit, 120_000, 2_500_000);
        bytes memory scans;
        for (uint256 i; i < count; ++i) {
            uint256 vehicleId = _registerVehicle(OWNER, IVehicleRegistry.VehicleClass.Car);
            registry.setStatus(vehicleId, uint8(IVehicleRegistry.VehicleStatus.Stolen), 1);
            scans = bytes.concat(scans, _record(vehicleId, START, (i + 1) * 256));
        }
        bytes memory signature = _sign(GANTRY, scans, ORACLE_KEY);
        vm.recordLogs();
        bytes memory submit = abi.encodeCall(escrow.submitScansWithinGas, (GANTRY, scans, signature));
        // A low-level call sets the gas the escrow gets, as a transaction's gas limit would.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok,) = address(escrow).call{gas: gasLimit}(submit);
        assertTrue(ok, "never runs out of gas");
        uint256 deferred = _deferredOf(vm.getRecordedLogs());
        assertLe(deferred, count, "defers at most the batch");
        for (uint256 i; i < count; ++i) {
            assertTrue(_settled(GANTRY, (i + 1) * 256) == (i < count - deferred), "settled: exactly the prefix");
        }
        _assertBalanced();
    }

    function test_submitScansWithinGas_defersNothingWithEnoughGas() public {
        _fund(car, 10 * USD);
        bytes memory scans = bytes.concat(_record(car, START, 1), _record(car, START, 2));
        vm.recordLogs();
        escrow.submitScansWithinGas(GANTRY, scans, _sign(GANTRY, scans, ORACLE_KEY));
        assertEq(_deferredOf(vm.getRecordedLogs()), 0, "nothing deferred");
        assertEq(_balance(car), 6 * USD, "both charged");
    }

    function test_submitScans_leavesAFutureScanUnsettled() public {
        _fund(car, 10 * USD);
        bytes memory scans = _record(car, START + 60, 1);
        _submit(GANTRY, scans);
        assertTrue(!_settled(GANTRY, 1), "not settled");
        vm.warp(START + 60);
        _submit(GANTRY, scans);
        assertTrue(_settled(GANTRY, 1), "settled once its time came");
        assertEq(_balance(car), 8 * USD, "charged");
    }

    function testFuzz_submitScans_leavesAFutureScanUnsettled(uint256 ahead) public {
        ahead = bound(ahead, 1, 365 days);
        _fund(car, 10 * USD);
        _submit(GANTRY, _record(car, START + ahead, 1));
        assertTrue(!_settled(GANTRY, 1), "not settled");
        assertEq(_balance(car), 10 * USD, "not charged");
    }

    function test_submitScans_skipsAStaleScanForGood() public {
        vm.warp(START + 10 days);
        _fund(car, 10 * USD);
        _submit(GANTRY, _record(car, START + 10 days - MAX_SCAN_AGE - 1, 1));
        assertTrue(_settled(GANTRY, 1), "settled for good");
        assertEq(_balance(car), 10 * USD, "not charged");
    }

    /// @dev The window is [now - maxScanAge, now]: inside it a scan is charged, outside it is not.
    function testFuzz_submitScans_chargesOnlyInsideTheTimeWindow(uint256 age) public {
        age = bound(age, 0, 2 * MAX_SCAN_AGE);
        vm.warp(START + 10 days);
        _fund(car, 10 * USD);
        _submit(GANTRY, _record(car, block.timestamp - age, 1));
        assertTrue(_settled(GANTRY, 1), "settled either way");
        assertEq(_balance(car), age <= MAX_SCAN_AGE ? 8 * USD : 10 * USD, "charged iff fresh");
    }

    // --- tariffs ------------------------------------------------------------------------------------------------

    function test_submitScans_pricesByTheTariffInForceAtTheScan() public {
        _fund(car, 100 * USD);
        escrow.scheduleTariff(GANTRY, _fees(1, 7 * USD, 1, 1, 1), uint64(START + 1 hours));
        vm.warp(START + 2 hours);
        _submit(GANTRY, bytes.concat(_record(car, START + 1 hours - 1, 1), _record(car, START + 1 hours, 2)));
        assertEq(_balance(car), 100 * USD - CAR_FEE - 7 * USD, "old fee before, new fee from the boundary");
    }

    function testFuzz_submitScans_pricesByTheTariffInForceAtTheScan(uint256 scanOffset) public {
        scanOffset = bound(scanOffset, 0, 2 hours);
        _fund(car, 100 * USD);
        uint256 boundary = START + 1 hours;
        escrow.scheduleTariff(GANTRY, _fees(1, 7 * USD, 1, 1, 1), uint64(boundary));
        vm.warp(START + 2 hours);
        _submit(GANTRY, _record(car, START + scanOffset, 1));
        uint256 expected = START + scanOffset < boundary ? CAR_FEE : 7 * USD;
        assertEq(_balance(car), 100 * USD - expected, "priced by the tariff at the scan's time");
        uint64 scanTime = uint64(START + scanOffset);
        assertEq(escrow.feeAt(GANTRY, IVehicleRegistry.VehicleClass.Car, scanTime), expected, "feeAt");
    }

    // --- deposits and arrears -----------------------------------------------------------------------------------

    function test_deposit_settlesArrearsFirst() public {
        _submit(GANTRY, _record(car, START, 1));
        assertEq(_arrears(car), CAR_FEE, "arrears");
        _fund(car, 5 * USD);
        assertEq(_arrears(car), 0, "arrears paid");
        assertEq(_balance(car), 3 * USD, "rest to the balance");
        assertEq(escrow.batch(1).held, CAR_FEE, "paid into the batch");
        _assertBalanced();
    }

    function testFuzz_deposit_settlesArrearsFirst(uint256 scans, uint256 amount) public {
        scans = bound(scans, 1, 20);
        amount = bound(amount, 1, 100 * USD);
        bytes memory batch;
        for (uint256 i; i < scans; ++i) {
            batch = bytes.concat(batch, _record(car, START, i));
        }
        _submit(GANTRY, batch);
        uint256 owed = scans * CAR_FEE;
        _fund(car, amount);
        uint256 settled = amount < owed ? amount : owed;
        assertEq(_arrears(car), owed - settled, "arrears left");
        assertEq(_balance(car), amount - settled, "balance");
        assertEq(escrow.batch(1).held, settled, "held");
        _assertBalanced();
    }

    // --- withdrawals --------------------------------------------------------------------------------------------

    function test_withdraw_afterTheNotice() public {
        _fund(car, 10 * USD);
        vm.prank(OWNER);
        escrow.requestWithdrawal(car);
        vm.warp(START + WITHDRAWAL_NOTICE);
        vm.prank(OWNER);
        escrow.withdraw(car, 10 * USD, OWNER);
        assertEq(token.balanceOf(OWNER), 10 * USD, "paid out");
    }

    function testFuzz_withdraw_onlyInsideItsWindow(uint256 wait) public {
        wait = bound(wait, 0, WITHDRAWAL_NOTICE + escrow.WITHDRAWAL_WINDOW() + 1 days);
        _fund(car, 10 * USD);
        vm.prank(OWNER);
        escrow.requestWithdrawal(car);
        vm.warp(START + wait);
        bool open = wait >= WITHDRAWAL_NOTICE && wait <= WITHDRAWAL_NOTICE + escrow.WITHDRAWAL_WINDOW();
        if (!open) vm.expectRevert();
        vm.prank(OWNER);
        escrow.withdraw(car, 10 * USD, OWNER);
        assertEq(token.balanceOf(OWNER), open ? 10 * USD : 0, "paid out iff the window is open");
    }

    function test_withdraw_voidAfterSale() public {
        _fund(car, 10 * USD);
        vm.prank(OWNER);
        escrow.requestWithdrawal(car);
        vm.prank(OWNER);
        registry.transferFrom(OWNER, BUYER, car);
        vm.warp(START + WITHDRAWAL_NOTICE);
        vm.expectRevert(abi.encodeWithSelector(ITollEscrow.TollEscrowWithdrawalRequestVoid.selector, car, OWNER));
        vm.prank(BUYER);
        escrow.withdraw(car, 1, BUYER);
        assertEq(_balance(car), 10 * USD, "the balance stays with the vehicle");
    }

    // --- disputes -----------------------------------------------------------------------------------------------

    function test_resolveDispute_refundsAnUpheldCharge() public {
        _fund(car, 10 * USD);
        vm.recordLogs();
        uint256 batchId = _submit(GANTRY, _record(car, START, 1));
        (, bytes memory leaves) = _leavesOf(vm.getRecordedLogs());
        vm.prank(OWNER);
        escrow.openDispute(batchId, leaves, 0);
        escrow.resolveDispute(batchId, 0, true);
        assertEq(_balance(car), 10 * USD, "refunded");
        assertEq(escrow.batch(batchId).held, 0, "out of the held revenue");
        _assertBalanced();
    }

    /// @dev Whatever part of a charge was paid, then or later, an upheld dispute gives the vehicle back the whole fee
    /// (forgiven arrears + refund) and keeps the books balanced.
    function testFuzz_resolveDispute_givesTheWholeFeeBack(uint256 balance, uint256 later) public {
        balance = bound(balance, 0, TRUCK_FEE);
        later = bound(later, 0, TRUCK_FEE);
        if (balance != 0) _fund(truck, balance);
        vm.recordLogs();
        uint256 batchId = _submit(GANTRY, _record(truck, START, 1));
        (, bytes memory leaves) = _leavesOf(vm.getRecordedLogs());
        if (later != 0) _fund(truck, later);
        uint256 balanceBefore = _balance(truck);
        uint256 arrearsBefore = _arrears(truck);
        vm.prank(OWNER);
        escrow.openDispute(batchId, leaves, 0);
        escrow.resolveDispute(batchId, 0, true);
        // Back: the fee, as forgiven arrears plus balance (which pays any other arrears first; there are none).
        assertEq(
            (_balance(truck) - balanceBefore) + (arrearsBefore - _arrears(truck)), TRUCK_FEE, "the whole fee back"
        );
        assertEq(_arrears(truck), 0, "no arrears left");
        _assertBalanced();
    }

    function test_openDispute_refusesAForgedLeaf() public {
        _fund(car, 10 * USD);
        uint256 batchId = _submit(GANTRY, _record(car, START, 1));
        bytes memory forged = abi.encodePacked(_record(car, START, 1), uint48(100 * USD));
        vm.expectRevert(abi.encodeWithSelector(ITollEscrow.TollEscrowInvalidProof.selector, batchId));
        vm.prank(OWNER);
        escrow.openDispute(batchId, forged, 0);
    }

    function test_leaves_areRecordThenFee() public {
        _fund(car, 10 * USD);
        vm.recordLogs();
        _submit(GANTRY, _record(car, START, 1));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        (, bytes memory leaves) = _leavesOf(logs);
        assertEq(keccak256(leaves), keccak256(abi.encodePacked(_record(car, START, 1), uint48(CAR_FEE))), "leaf");
        assertEq(escrow.batch(1).commitment, keccak256(leaves), "commitment");
    }
}
