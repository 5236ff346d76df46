// Greedy token sequences compared together with their margins, so that an argmax near-tie (two
// logits within the tolerance of each other) cannot make a test flaky, and a real disagreement
// still fails.

/// How Eckart's greedy tokens compare with a reference run's.
public enum GreedyAgreement: Equatable, CustomStringConvertible {
    /// Every token is the same.
    case identical
    /// The sequences part at `step`, where the reference's token was within `Tolerance.greedyNearTie`
    /// of Eckart's best other logit, either way: both are right within the tolerance, and the rest
    /// cannot be compared.
    case nearTie(step: Int, margin: Float)
    /// The sequences part at `step` although `margin` is beyond the near-tie bound: the reference's
    /// token trailed Eckart's best by more (the logits differ by more than the tolerance), or led it
    /// clearly and Eckart still chose or stopped otherwise.
    case disagree(step: Int, margin: Float)

    /// Compares `ours` with `reference`. `margins[t]` is, in Eckart's logits for step `t` given the
    /// prompt and `reference[..<t]`, the logit of `reference[t]` minus the best other logit
    /// (negative when Eckart prefers another token).
    public init(ours: [Int], reference: [Int], margins: [Float], nearTie: Float = Tolerance.greedyNearTie) {
        precondition(margins.count == reference.count, "one margin per reference token")
        let common = zip(ours, reference).prefix { $0 == $1 }.count
        guard common < max(ours.count, reference.count) else { self = .identical; return }
        // Either the tokens differ at `common`, or one run stopped there while the other went on; a
        // reference that stopped first (ours longer) cannot happen with the same max_tokens unless a
        // stop token was chosen differently, which is again the choice at `common`.
        guard common < margins.count else { self = .disagree(step: common, margin: -.infinity); return }
        let margin = margins[common]
        self = abs(margin) <= nearTie ? .nearTie(step: common, margin: margin) : .disagree(step: common, margin: margin)
    }

    /// True unless the runs disagree beyond the tolerance.
    public var isAcceptable: Bool {
        if case .disagree = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .identical: "identical"
        case .nearTie(let step, let margin): "parted at step \(step) on a near-tie (margin \(margin))"
        case .disagree(let step, let margin): "parted at step \(step) with margin \(margin) (near-tie bound \(Tolerance.greedyNearTie))"
        }
    }

    /// `logits[t]` row's logit of `chosen[t]` minus the best other logit in that row: the margins
    /// `init(ours:reference:margins:)` takes, from rows of logits laid out one row per step.
    public static func margins(logitRows: [[Float]], chosen: [Int]) -> [Float] {
        zip(logitRows, chosen).map { row, token in
            var best = -Float.infinity
            for (j, v) in row.enumerated() where j != token { best = max(best, v) }
            return row[token] - best
        }
    }
}
