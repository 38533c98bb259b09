// swift-tools-version: 6.1
// FlexBMS: one manifest for both worlds.
//
// Host (default): every target, the CLI and the tests.
// Embedded (FLEXBMS_EMBEDDED=1): only the portable targets, compiled in Embedded Swift for a
// bare-metal triple, e.g.
//   FLEXBMS_EMBEDDED=1 swift build --triple armv6m-none-none-eabi --target BMSCore \
//       --build-path .build-armv6m
// An environment variable is used because `.when(platforms:)` does not match `*-none-*`
// triples (see ../shared/reference/embedded-swift.md, "SwiftPM pitfalls").
import PackageDescription
import Foundation  // ProcessInfo only, to read the mode switch

let embedded = ProcessInfo.processInfo.environment["FLEXBMS_EMBEDDED"] == "1"

/// Settings of every portable target. In Embedded mode: the Embedded subset of the language,
/// whole-module optimisation for size, one section per function so the linker can drop
/// unused code (without it unused `_modify` coroutines pull in malloc), and no stack
/// protector (picolibc's `__stack_chk_fail` drags in `raise`).
let portableSwift: [SwiftSetting] = embedded ? [
    .enableExperimentalFeature("Embedded"),
    .unsafeFlags(["-wmo", "-Osize", "-Xfrontend", "-function-sections",
                  "-Xfrontend", "-disable-stack-protector"]),
] : hostSpeed

/// On the host, cross-module optimisation lets the simulator's generic closed loop
/// (Simulation<Profile>, stepped from FlexBMSTools) be specialised and inlined across module
/// boundaries; without it every step goes through runtime generic metadata and copies of
/// whole structs (measured: most of the run time).
var hostSpeed: [SwiftSetting] { [.unsafeFlags(["-cross-module-optimization"])] }

var targets: [Target] = [
    .target(name: "BMSCore", swiftSettings: portableSwift),
    .target(name: "AFE", swiftSettings: portableSwift),
    .target(name: "PackSim", dependencies: ["BMSCore", "AFE"], swiftSettings: portableSwift),
    .target(name: "PAYG", swiftSettings: portableSwift),
    .target(name: "ThingSet", swiftSettings: portableSwift),
    .target(name: "Inverter", swiftSettings: portableSwift),
    .target(name: "Firmware", dependencies: ["BMSCore", "ThingSet", "PAYG", "Inverter", "AFE"], swiftSettings: portableSwift),
]

if embedded {
    // The bare-metal image (scripts/firmware): startup, vector table and the board's
    // peripherals in C; the application in Swift. Linked with ld.lld, a board linker script
    // and picolibc/libgcc passed by scripts/firmware (SwiftPM's default link cannot do it).
    targets += [
        .target(name: "Board", cSettings: [.unsafeFlags(["-Os", "-ffreestanding", "-ffunction-sections",
                                                         "-fdata-sections"])]),
        .executableTarget(name: "FirmwareImage", dependencies: ["Firmware", "AFE", "PackSim", "BMSCore", "Board"],
                          swiftSettings: portableSwift,
                          linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xclang-linker", "-nostdlib"])]),
    ]
}

if !embedded {
    targets += [
        .target(name: "FlexBMSLink", dependencies: ["ThingSet"], swiftSettings: hostSpeed),
        .target(name: "FlexBMSTools", dependencies: ["BMSCore", "PackSim", "PAYG", "ThingSet", "Inverter", "Firmware", "FlexBMSLink", "AFE"],
                swiftSettings: hostSpeed),
        .executableTarget(name: "flexbms", dependencies: [
            "BMSCore", "PackSim", "PAYG", "FlexBMSTools", "FlexBMSLink", "ThingSet", "Inverter", "Firmware", "AFE",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "BMSCoreTests", dependencies: [
            "BMSCore",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "PackSimTests", dependencies: ["PackSim", "BMSCore", "PAYG"]),
        .testTarget(name: "PAYGTests", dependencies: ["PAYG"]),
        .testTarget(name: "ThingSetTests", dependencies: ["ThingSet"]),
        .testTarget(name: "InverterTests", dependencies: ["Inverter"]),
        .testTarget(name: "AFETests", dependencies: ["AFE"]),
        .testTarget(name: "FirmwareTests", dependencies: ["Firmware", "ThingSet", "BMSCore", "PAYG", "AFE", "PackSim", "FlexBMSTools"]),
        .testTarget(name: "FlexBMSToolsTests", dependencies: ["FlexBMSTools", "BMSCore", "PackSim", "Firmware", "ThingSet", "Inverter"]),
        .testTarget(name: "flexbmsTests", dependencies: ["flexbms", "FlexBMSLink", "ThingSet"]),
    ]
}

let package = Package(
    name: "FlexBMS",
    products: embedded ? [
        .library(name: "BMSCore", targets: ["BMSCore"]),
        .library(name: "PackSim", targets: ["PackSim"]),
        .library(name: "PAYG", targets: ["PAYG"]),
        .library(name: "ThingSet", targets: ["ThingSet"]),
        .library(name: "Inverter", targets: ["Inverter"]),
        .library(name: "Firmware", targets: ["Firmware"]),
        .library(name: "AFE", targets: ["AFE"]),
        .executable(name: "FirmwareImage", targets: ["FirmwareImage"]),
    ] : [
        .executable(name: "flexbms", targets: ["flexbms"]),
        .library(name: "BMSCore", targets: ["BMSCore"]),
        .library(name: "FlexBMSTools", targets: ["FlexBMSTools"]),
    ],
    dependencies: embedded ? [] : [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: targets
)
