/// An ordered list with a capacity fixed at compile time, stored inline (no heap).
///
/// The trade-off: memory for `capacity` elements is always reserved, and appending to a full
/// list does not grow it. `append(_:)` returns `false` and counts the element as dropped
/// instead, so a caller that must not lose items checks `isFull` first (or reads `dropped`).
public struct FixedList<let capacity: Int, Element> {
    @usableFromInline var storage: InlineArray<capacity, Element?>
    /// Number of elements held, `0...capacity`.
    public private(set) var count: Int = 0
    /// Elements refused by `append(_:)` because the list was full since the last `removeAll()`.
    public private(set) var dropped: Int = 0

    public init() {
        storage = InlineArray(repeating: nil)
    }

    public var isEmpty: Bool { count == 0 }
    public var isFull: Bool { count == capacity }

    /// Appends `element`; returns `false` (and counts it in `dropped`) when the list is full.
    @discardableResult
    public mutating func append(_ element: Element) -> Bool {
        guard count < capacity else {
            dropped &+= 1
            return false
        }
        storage[count] = element
        count += 1
        return true
    }

    /// Removes and returns the first element, or `nil` when empty (shifts the rest: O(n)).
    public mutating func removeFirst() -> Element? {
        guard count > 0 else { return nil }
        let first = storage[0]
        var i = 1
        while i < count {
            storage[i - 1] = storage[i]
            i += 1
        }
        count -= 1
        storage[count] = nil
        return first
    }

    /// Removes and returns the last element, or `nil` when empty.
    @discardableResult
    public mutating func removeLast() -> Element? {
        guard count > 0 else { return nil }
        count -= 1
        let last = storage[count]
        storage[count] = nil
        return last
    }

    public mutating func removeAll() {
        var i = 0
        while i < count {
            storage[i] = nil
            i += 1
        }
        count = 0
        dropped = 0
    }

    public subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "FixedList index out of range")
            return storage[index]!
        }
        set {
            precondition(index >= 0 && index < count, "FixedList index out of range")
            storage[index] = newValue
        }
    }
}

extension FixedList: Sequence {
    public struct Iterator: IteratorProtocol {
        let list: FixedList
        var index = 0
        public mutating func next() -> Element? {
            guard index < list.count else { return nil }
            defer { index += 1 }
            return list[index]
        }
    }

    public func makeIterator() -> Iterator { Iterator(list: self) }
}

extension FixedList: Sendable where Element: Sendable {}
