// Greedy rank allocation against brute force over every allocation of small problems.
import Diagnostics
import FixtureSupport
import LinearAlgebra
import Testing

/// Every allocation (k_1, …, k_M) with 0 ≤ k_m ≤ r_m.
private func allAllocations(_ ranks: [Int]) -> [[Int]] {
    ranks.reduce([[]]) { partial, r in partial.flatMap { prefix in (0...r).map { prefix + [$0] } } }
}

private func lost(_ squares: [[Double]], _ ks: [Int]) -> Double {
    zip(squares, ks).reduce(0.0) { $0 + $1.0.dropFirst($1.1).reduce(0, +) }
}

private func cost(_ costs: [Int], _ ks: [Int]) -> Int { zip(costs, ks).reduce(0) { $0 + $1.0 * $1.1 } }

/// Three modules with random descending spectra and different costs (seeded).
private func problem(seed: UInt64) -> (squares: [[Double]], costs: [Int]) {
    var seeded = SeededMatrices(state: seed)
    let ranks = [4, 3, 5]
    let squares = ranks.map { r in seeded.matrix(1, r).storage.map { Double($0 * $0) + 1e-3 }.sorted(by: >) }
    return (squares, [7, 12, 5])
}

@Test(arguments: [1, 2, 3, 4] as [UInt64])
func greedyBudgetAllocationIsOptimalForWhatItSpends(seed: UInt64) {
    // While greedy follows the order of σ²/cost (no module skipped for not fitting), the exchange
    // argument (concave per-module gains) makes it optimal among all allocations costing no more than
    // it does: checked exactly for every such budget. Skipping can leave that order; then it must
    // still be optimal for most budgets.
    let (squares, costs) = problem(seed: seed)
    let all = allAllocations(squares.map(\.count))
    let total = cost(costs, squares.map(\.count))
    // Every unit of rank in the ratio order (module gains are descending, so each module's units
    // come in rank order).
    let order = squares.indices.flatMap { m in squares[m].indices.map { (m, squares[m][$0] / Double(costs[m])) } }
        .enumerated().sorted { $0.element.1 != $1.element.1 ? $0.element.1 > $1.element.1 : $0.offset < $1.offset }.map(\.element.0)
    var optimalAtOwnCost = 0, followedTheOrder = 0
    for budget in 0...total {
        let greedy = RankAllocation.greedy(squaredSingularValues: squares, costs: costs, budget: budget, energy: nil)
        let spent = cost(costs, greedy)
        #expect(spent <= budget)
        let best = all.filter { cost(costs, $0) <= spent }.map { lost(squares, $0) }.min()!
        let optimal = lost(squares, greedy) <= best + 1e-12
        if optimal { optimalAtOwnCost += 1 }
        var prefix = [Int](repeating: 0, count: squares.count), prefixCost = 0
        for m in order {
            guard prefixCost + costs[m] <= budget else { break }
            prefix[m] += 1
            prefixCost += costs[m]
        }
        if prefix == greedy {
            followedTheOrder += 1
            #expect(optimal, "budget \(budget): greedy \(greedy) loses more than the best allocation of cost ≤ \(spent)")
        }
    }
    #expect(followedTheOrder > (total + 1) / 2)
    #expect(optimalAtOwnCost >= (total + 1) * 9 / 10, "optimal for \(optimalAtOwnCost) of \(total + 1) budgets")
}

@Test(arguments: [5, 6, 7] as [UInt64])
func withEqualCostsGreedyIsExactlyOptimalForEveryBudget(seed: UInt64) {
    let (squares, _) = problem(seed: seed)
    let costs = [6, 6, 6]
    let all = allAllocations(squares.map(\.count))
    for budget in 0...cost(costs, squares.map(\.count)) {
        let greedy = RankAllocation.greedy(squaredSingularValues: squares, costs: costs, budget: budget, energy: nil)
        let best = all.filter { cost(costs, $0) <= budget }.map { lost(squares, $0) }.min()!
        #expect(abs(lost(squares, greedy) - best) <= 1e-12, "budget \(budget): greedy \(greedy)")
    }
}

@Test(arguments: [0.5, 0.9, 0.99, 1.0])
func energyGoalKeepsTheShareAtTheLeastCostGreedyFinds(tau: Double) {
    let (squares, costs) = problem(seed: 11)
    let total = squares.reduce(0.0) { $0 + $1.reduce(0, +) }
    let ranks = RankAllocation.greedy(squaredSingularValues: squares, costs: costs, budget: nil, energy: tau)
    #expect(1 - lost(squares, ranks) / total >= tau - 1e-12)
    // Brute force: no allocation reaching τ costs less than greedy's minus one step of the largest cost
    // (greedy may overshoot by its last unit), and no cheaper one of the same cost keeps more.
    let all = allAllocations(squares.map(\.count)).filter { 1 - lost(squares, $0) / total >= tau - 1e-12 }
    let cheapest = all.map { cost(costs, $0) }.min()!
    #expect(cost(costs, ranks) <= cheapest + costs.max()!)
}
