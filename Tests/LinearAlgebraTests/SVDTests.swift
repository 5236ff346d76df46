// LAPACK's SVD and QR through our wrappers, on matrices with known answers.
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
