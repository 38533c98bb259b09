/// Register-level facts of the TI BQ76952 (and its family BQ76942/BQ769142), from the
/// BQ76952 Technical Reference Manual (TI SLUUBY2): direct commands (chapter 12.1),
/// subcommands (12.2, 12.3) and data memory (chapter 13). Shared by the driver and the emulator,
/// so the two can only disagree about behaviour, not about addresses.
public enum BQ76952 {
    /// The 7-bit I2C address of the default part (8-bit write address 0x10).
    public static let i2cAddress: UInt8 = 0x08
    /// What DEVICE_NUMBER returns.
    public static let deviceNumber: UInt16 = 0x7695

    /// Direct commands: a register address, read (and some written) like a plain register.
    public enum Direct {
        public static let controlStatus: UInt8 = 0x00
        public static let safetyAlertA: UInt8 = 0x02
        public static let safetyStatusA: UInt8 = 0x03
        public static let safetyAlertB: UInt8 = 0x04
        public static let safetyStatusB: UInt8 = 0x05
        public static let safetyAlertC: UInt8 = 0x06
        public static let safetyStatusC: UInt8 = 0x07
        public static let batteryStatus: UInt8 = 0x12
        /// Cell n (1…16) at 0x14 + 2 (n − 1), I2 in mV.
        public static let cell1Voltage: UInt8 = 0x14
        /// Top of the stack, PACK pin, LD pin: I2 in user volts (10 mV with our DA configuration).
        public static let stackVoltage: UInt8 = 0x34
        public static let packVoltage: UInt8 = 0x36
        public static let ldVoltage: UInt8 = 0x38
        /// Coulomb-counter 2 current, I2 in user amps (10 mA with our DA configuration).
        public static let cc2Current: UInt8 = 0x3A
        /// The subcommand / data-memory address (2 bytes, little-endian).
        public static let subcommand: UInt8 = 0x3E
        /// The 32-byte transfer buffer.
        public static let transferBuffer: UInt8 = 0x40
        /// Checksum and length of the transfer buffer's contents.
        public static let transferChecksum: UInt8 = 0x60
        public static let transferLength: UInt8 = 0x61
        /// Latched alarm bits (write 1 to clear), their raw state and which of them drive ALERT.
        public static let alarmStatus: UInt8 = 0x62
        public static let alarmRawStatus: UInt8 = 0x64
        public static let alarmEnable: UInt8 = 0x66
        /// Temperatures, I2 in 0.1 K.
        public static let internalTemperature: UInt8 = 0x68
        public static let ts1Temperature: UInt8 = 0x70
        public static let ts2Temperature: UInt8 = 0x72
        public static let ts3Temperature: UInt8 = 0x74
        public static let fetStatus: UInt8 = 0x7F
    }

    /// Subcommands: written little-endian to 0x3E.
    public enum Subcommand {
        public static let deviceNumber: UInt16 = 0x0001
        public static let fetEnable: UInt16 = 0x0022
        public static let manufacturingStatus: UInt16 = 0x0057
        public static let cbActiveCells: UInt16 = 0x0083
        public static let setConfigUpdate: UInt16 = 0x0090
        public static let exitConfigUpdate: UInt16 = 0x0092
        public static let allFETsOff: UInt16 = 0x0095
        public static let allFETsOn: UInt16 = 0x0096
        public static let fetControl: UInt16 = 0x0097
        public static let sleepEnable: UInt16 = 0x0099
        public static let sleepDisable: UInt16 = 0x009A
        public static let deepSleep: UInt16 = 0x000F
        public static let shutdown: UInt16 = 0x0010
        public static let reset: UInt16 = 0x0012
    }

    /// Safety Alert / Status A bits (TRM 12.1: SCD bit 7 … CUV bit 2).
    public enum SafetyA {
        public static let cuv: UInt8 = 1 << 2
        public static let cov: UInt8 = 1 << 3
        public static let occ: UInt8 = 1 << 4
        public static let ocd1: UInt8 = 1 << 5
        public static let ocd2: UInt8 = 1 << 6
        public static let scd: UInt8 = 1 << 7
    }

    /// Safety Alert / Status B bits.
    public enum SafetyB {
        public static let utc: UInt8 = 1 << 0
        public static let utd: UInt8 = 1 << 1
        public static let utint: UInt8 = 1 << 2
        public static let otc: UInt8 = 1 << 4
        public static let otd: UInt8 = 1 << 5
        public static let otint: UInt8 = 1 << 6
        public static let otf: UInt8 = 1 << 7
    }

    /// Battery Status bits the driver reads.
    public enum BatteryStatus {
        public static let configUpdate: UInt16 = 1 << 0
        public static let safetyFault: UInt16 = 1 << 11
        public static let permanentFail: UInt16 = 1 << 12
        public static let sleep: UInt16 = 1 << 15
    }

    /// Alarm Status / Raw Status / Enable bits.
    public enum Alarm {
        public static let cellBalancing: UInt16 = 1 << 2
        public static let fullScan: UInt16 = 1 << 7
        public static let permanentFail: UInt16 = 1 << 13
        /// A bit of Safety Status A changed.
        public static let safetyStatusA: UInt16 = 1 << 14
        /// A bit of Safety Status B or C changed.
        public static let safetyStatusBC: UInt16 = 1 << 15
    }

    /// FET Status (0x7F): what the FETs are. Not the layout of FET_CONTROL (a known trap:
    /// reference §bugs #4).
    public enum FETStatus {
        public static let chg: UInt8 = 1 << 0
        public static let pchg: UInt8 = 1 << 1
        public static let dsg: UInt8 = 1 << 2
        public static let pdsg: UInt8 = 1 << 3
        public static let alertPin: UInt8 = 1 << 6
    }

    /// FET_CONTROL (0x0097) data: which FETs the host forces off.
    public enum FETControl {
        public static let dsgOff: UInt8 = 1 << 0
        public static let pdsgOff: UInt8 = 1 << 1
        public static let chgOff: UInt8 = 1 << 2
        public static let pchgOff: UInt8 = 1 << 3
    }

    /// Manufacturing Status (subcommand 0x0057) bit: FETs under normal (autonomous + host)
    /// control rather than test mode.
    public static let manufacturingFETEnable: UInt16 = 1 << 4

    /// Data memory addresses (TRM chapter 13) with their stored size in bytes.
    public enum Memory: UInt16, CaseIterable, Sendable {
        case ccGain = 0x91A8                     // F4
        case powerConfig = 0x9234                // H2
        case ts1Config = 0x92FD                  // H1
        case ts2Config = 0x92FE                  // H1
        case ts3Config = 0x92FF                  // H1
        case daConfiguration = 0x9303            // H1
        case vcellMode = 0x9304                  // H2
        case fetOptions = 0x9308                 // H1
        case protectionConfiguration = 0x925F    // H2
        case enabledProtectionsA = 0x9261        // H1
        case enabledProtectionsB = 0x9262        // H1
        case enabledProtectionsC = 0x9263        // H1
        case chgFETProtectionsA = 0x9265         // H1
        case chgFETProtectionsB = 0x9266         // H1
        case dsgFETProtectionsA = 0x9269         // H1
        case dsgFETProtectionsB = 0x926A         // H1
        case defaultAlarmMask = 0x926D           // H2
        case cuvThreshold = 0x9275               // U1, 50.6 mV
        case cuvDelay = 0x9276                   // U2, 3.3 ms
        case covThreshold = 0x9278               // U1, 50.6 mV
        case covDelay = 0x9279                   // U2, 3.3 ms
        case cuvRecoveryHysteresis = 0x927B      // U1, 50.6 mV
        case covRecoveryHysteresis = 0x927C      // U1, 50.6 mV
        case occThreshold = 0x9280               // U1, 2 mV
        case occDelay = 0x9281                   // U1, 3.3 ms (+2)
        case ocd1Threshold = 0x9282              // U1, 2 mV
        case ocd1Delay = 0x9283                  // U1, 3.3 ms (+2)
        case scdThreshold = 0x9286               // U1, table index
        case scdDelay = 0x9287                   // U1, 15 µs (−1)
        case scdRecoveryTime = 0x9294            // U1, s
        case otcThreshold = 0x929A               // I1, °C
        case otcDelay = 0x929B                   // U1, s
        case otcRecovery = 0x929C                // I1, °C
        case otdThreshold = 0x929D
        case otdDelay = 0x929E
        case otdRecovery = 0x929F
        case utcThreshold = 0x92A6
        case utcDelay = 0x92A7
        case utcRecovery = 0x92A8
        case utdThreshold = 0x92A9
        case utdDelay = 0x92AA
        case utdRecovery = 0x92AB
        case protectionRecoveryTime = 0x92AF     // U1, s
        case cellBalancingConfig = 0x9335        // H1
        case cbInterval = 0x9339                 // U1, s
        case cbMaxCells = 0x933A                 // U1
        case cbMinCellVoltageCharge = 0x933B     // I2, mV
        case cbMinDeltaCharge = 0x933D           // U1, mV
        case cbStopDeltaCharge = 0x933E          // U1, mV
        case cbMinCellVoltageRelax = 0x933F      // I2, mV
        case cbMinDeltaRelax = 0x9341            // U1, mV
        case cbStopDeltaRelax = 0x9342           // U1, mV
        case mfgStatusInit = 0x9343              // H2

        public var size: Int {
            switch self {
            case .ccGain: 4
            case .powerConfig, .vcellMode, .protectionConfiguration, .defaultAlarmMask, .cuvDelay, .covDelay,
                 .cbMinCellVoltageCharge, .cbMinCellVoltageRelax, .mfgStatusInit: 2
            default: 1
            }
        }

        /// The value after a reset (TRM chapter 13 defaults), little-endian in `size` bytes.
        public var defaultValue: UInt32 {
            switch self {
            case .ccGain: 0x40EF_4176  // 7.4768 as an IEEE float
            case .powerConfig: 0x2982
            case .ts1Config: 0x07
            case .ts2Config, .ts3Config: 0x00
            case .daConfiguration: 0x05
            case .vcellMode: 0x0000
            case .fetOptions: 0x0D
            case .protectionConfiguration: 0x0002
            case .enabledProtectionsA: 0x88
            case .enabledProtectionsB, .enabledProtectionsC: 0x00
            case .chgFETProtectionsA: 0x98
            case .chgFETProtectionsB: 0xD5
            case .dsgFETProtectionsA: 0xE4
            case .dsgFETProtectionsB: 0xE6
            case .defaultAlarmMask: 0xF800
            case .cuvThreshold: 50
            case .cuvDelay: 74
            case .covThreshold: 86
            case .covDelay: 74
            case .cuvRecoveryHysteresis, .covRecoveryHysteresis: 2
            case .occThreshold: 2
            case .occDelay: 4
            case .ocd1Threshold: 4
            case .ocd1Delay: 1
            case .scdThreshold: 0
            case .scdDelay: 2
            case .scdRecoveryTime: 5
            case .otcThreshold: 55
            case .otcDelay, .otdDelay, .utcDelay, .utdDelay: 2
            case .otcRecovery: 50
            case .otdThreshold: 60
            case .otdRecovery: 55
            case .utcThreshold, .utdThreshold: 0
            case .utcRecovery, .utdRecovery: 5
            case .protectionRecoveryTime: 3
            case .cellBalancingConfig: 0x00
            case .cbInterval: 20
            case .cbMaxCells: 1
            case .cbMinCellVoltageCharge, .cbMinCellVoltageRelax: 3900
            case .cbMinDeltaCharge, .cbMinDeltaRelax: 40
            case .cbStopDeltaCharge, .cbStopDeltaRelax: 20
            case .mfgStatusInit: 0x0000
            }
        }
    }

    /// Short-circuit thresholds selectable by `scdThreshold` (index 0…15), mV across the shunt.
    public static func shortCircuitMillivolts(_ index: Int) -> UInt16 {
        switch index {
        case 0: 10
        case 1: 20
        case 2: 40
        case 3: 60
        case 4: 80
        case 5: 100
        case 6: 125
        case 7: 150
        case 8: 175
        case 9: 200
        case 10: 250
        case 11: 300
        case 12: 350
        case 13: 400
        case 14: 450
        default: 500
        }
    }

    /// The cell-voltage threshold step, mV.
    public static let voltageStep: Float = 50.6
    /// The protection delay step of voltages and currents, ms.
    public static let delayStep: Float = 3.3

    /// The transfer-buffer checksum: the complement of the byte sum of the subcommand (or
    /// address) bytes and the data.
    public static func checksum(_ command: UInt16, _ data: I2CBytes, from: Int = 0) -> UInt8 {
        var sum = UInt8(truncatingIfNeeded: command) &+ UInt8(truncatingIfNeeded: command >> 8)
        var k = from
        while k < data.count { sum &+= data[k]; k += 1 }
        return ~sum
    }
}
