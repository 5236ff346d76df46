// LAPACK's SVD and QR through our wrappers, on matrices with known answers.
import FixtureSupport
import LinearAlgebra
import Testing

@Test func singularValuesOfKnownMatrices() throws {
    // diag(3, -4) has σ = [4, 3]; [[3, 0], [4, 0]] has σ = [5, 0].
    #expect(try Matrix(rows: 2, cols: 2, storage: [3, 0, 0, -4]).singularValues() == [4, 3])
    let sigma = try Matrix(rows: 2, cols: 2, storage: [3, 0, 4, 0]).singularValues()
    #expect(abs(sigma[0] - 5) < 1e-6 && abs(sigma[1]) < 1e-6)
}

@Test func svdReconstructsTheMatrix() throws {
    var seeded = SeededMatrices(state: 21)
    let a = seeded.matrix(7, 4)
    let d = try a.svd()
    var us = d.u
    us.scaleColumns(by: d.singularValues)
    #expect(us.times(d.vt).maxAbsDifference(a) < 1e-5)
    #expect(d.singularValues == d.singularValues.sorted(by: >))
}

@Test(arguments: [(6, 3), (3, 6), (5, 5)])
func qrReconstructsAndQIsOrthonormal(shape: (Int, Int)) throws {
    var seeded = SeededMatrices(state: 5)
    let a = seeded.matrix(shape.0, shape.1)
    let f = try a.qr()
    let k = min(shape.0, shape.1)
    #expect(f.q.shape == [shape.0, k] && f.r.shape == [k, shape.1])
    #expect(f.q.times(f.r).maxAbsDifference(a) < 1e-5)
    let identity = Matrix(rows: k, cols: k, storage: (0..<(k * k)).map { $0 % (k + 1) == 0 ? 1 : 0 })
    #expect(f.q.transposed().times(f.q).maxAbsDifference(identity) < 1e-5)
    for i in 0..<k { for j in 0..<i { #expect(f.r[i, j] == 0) } }
}

@Test func singularValuesOfARankOneOuterProduct() throws {
    // u·vᵀ with u = [1, 2, 2] (‖u‖ = 3) and v = [3, 4] (‖v‖ = 5): σ = [15, 0].
    let sigma = try Matrix(rows: 3, cols: 2, storage: [3, 4, 6, 8, 6, 8]).singularValues()
    #expect(sigma.count == 2)
    #expect(abs(sigma[0] - 15) < 1e-5 && abs(sigma[1]) < 1e-5)
}

@Test func wideSVDHasThinShapes() throws {
    var seeded = SeededMatrices(state: 8)
    let a = seeded.matrix(3, 8)
    let d = try a.svd()
    #expect(d.u.shape == [3, 3] && d.vt.shape == [3, 8] && d.singularValues.count == 3)
    var us = d.u
    us.scaleColumns(by: d.singularValues)
    #expect(us.times(d.vt).maxAbsDifference(a) < 1e-5)
    // jobz 'N' and 'S' take different paths inside sgesdd: equal up to rounding, not bitwise.
    for (x, y) in zip(try a.singularValues(), d.singularValues) { #expect(abs(x - y) < 1e-5) }
}

@Test func lapackFailureThrowsWithTheRoutineName() {
    // LAPACKE rejects a NaN input as an invalid argument (info < 0) instead of returning garbage.
    let poisoned = Matrix(rows: 2, cols: 2, storage: [1, .nan, 0, 1])
    #expect { _ = try poisoned.singularValues() } throws: { error in
        guard let e = error as? LAPACKError else { return false }
        return e.routine == "sgesdd" && e.info != 0
    }
    #expect { _ = try poisoned.qr() } throws: { error in
        guard let e = error as? LAPACKError else { return false }
        return e.routine == "sgeqrf" && e.info != 0
    }
}

@Test func emptyMatricesDecomposeToEmptyFactors() throws {
    #expect(try Matrix(rows: 0, cols: 3).singularValues().isEmpty)
    let f = try Matrix(rows: 4, cols: 0).qr()
    #expect(f.q.shape == [4, 0] && f.r.shape == [0, 0])
}
