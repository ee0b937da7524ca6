import LinuxSystem

/// The data path's clock, for code outside it that compares against its `Nanos` (ejection deadlines).
public enum BalancerClock {
    public static func now() -> Int64 { Sys.now() }
}
