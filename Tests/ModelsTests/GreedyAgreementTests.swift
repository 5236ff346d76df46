// The test suite's rule for greedy tokens (FixtureSupport/GreedyAgreement): runs may part only at a
// near-tie, and any other parting fails.
import FixtureSupport
import Testing

@Test func marginsAreTheChosenLogitMinusTheBestOther() {
    let rows: [[Float]] = [[0, 2, 1], [3, 3, -1], [5, 1, 4]]
    #expect(GreedyAgreement.margins(logitRows: rows, chosen: [1, 0, 2]) == [1, 0, -1])
}

@Test func greedyRunsPartOnlyAtANearTie() {
    let reference = [4, 8, 15, 16], clear: [Float] = [1, 1, 1, 1]
    #expect(GreedyAgreement(ours: reference, reference: reference, margins: clear) == .identical)
    // Parting where Eckart's own logits put the reference's token within the bound is accepted.
    let tie: [Float] = [1, -Tolerance.greedyNearTie / 2, 1, 1]
    #expect(GreedyAgreement(ours: [4, 9, 1, 2], reference: reference, margins: tie) == .nearTie(step: 1, margin: tie[1]))
    // Parting with a clear margin, or stopping early or late, fails.
    #expect(!GreedyAgreement(ours: [4, 9, 15, 16], reference: reference, margins: clear).isAcceptable)
    #expect(GreedyAgreement(ours: [4, 8], reference: reference, margins: clear) == .disagree(step: 2, margin: 1))
    #expect(!GreedyAgreement(ours: reference + [23], reference: reference, margins: clear).isAcceptable)
}
