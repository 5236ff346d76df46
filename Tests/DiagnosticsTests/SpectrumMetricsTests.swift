// Spectrum metrics on hand-computed spectra.
import Diagnostics
import Foundation
import Testing

@Test func metricsOfThreeFour() {
    let m = SpectrumMetrics(singularValues: [4, 3])
    #expect(abs(m.frobeniusNorm - 5) < 1e-12)
    #expect(m.spectralNorm == 4)
    #expect(abs(m.stableRank - 25.0 / 16) < 1e-12)
    #expect(abs(m.energy[0] - 0.64) < 1e-12 && m.energy[1] == 1)
    #expect(m.energyRank(0.5) == 1 && m.energyRank(0.9) == 2 && m.energyRank(0.99) == 2)
    let expectedEntropy = exp(-(4.0 / 7 * log(4.0 / 7) + 3.0 / 7 * log(3.0 / 7)))
    #expect(abs(m.entropyRank - expectedEntropy) < 1e-12)
    #expect(abs(m.truncationError(rank: 1) - 3) < 1e-12)
    #expect(abs(m.relativeTruncationError(rank: 1) - 0.6) < 1e-12)
    #expect(m.truncationError(rank: 2) == 0)
}

@Test func flatSpectrumHasFullEffectiveRank() {
    let m = SpectrumMetrics(singularValues: [2, 2, 2, 2])
    #expect(abs(m.entropyRank - 4) < 1e-9 && abs(m.stableRank - 4) < 1e-12)
    #expect(m.energyRank(0.9) == 4 && m.energyRank(0.75) == 3)
}

@Test func zeroSpectrumHasNoNaN() {
    let m = SpectrumMetrics(singularValues: [0, 0, 0])
    #expect(m.frobeniusNorm == 0 && m.stableRank == 0 && m.entropyRank == 0 && m.energyRank(0.9) == 0)
    #expect(m.energy.allSatisfy { !$0.isNaN })
    #expect(m.relativeTruncationError(rank: 1) == 0)
}

@Test func unsortedInputIsSortedFirst() {
    // σ = [3, 4] is read as the spectrum {4, 3}: σ₁ = 4, so stable rank 25/16 and energy [0.64, 1].
    let m = SpectrumMetrics(singularValues: [3, 4])
    #expect(m == SpectrumMetrics(singularValues: [4, 3]))
    #expect(m.singularValues == [4, 3] && m.spectralNorm == 4 && abs(m.stableRank - 25.0 / 16) < 1e-12)
    #expect(abs(m.energy[0] - 0.64) < 1e-12 && m.energyRank(0.9) == 2)
}

@Test func singleValueSpectrum() {
    let m = SpectrumMetrics(singularValues: [2.5])
    #expect(m.energy == [1] && m.energyRank(0.99) == 1 && m.entropyRank == 1 && m.stableRank == 1)
    #expect(m.frobeniusNorm == 2.5 && m.truncationError(rank: 0) == 2.5 && m.relativeTruncationError(rank: 0) == 1)
}

@Test func emptySpectrumIsAllZeros() {
    let m = SpectrumMetrics(singularValues: [])
    #expect(m.energy.isEmpty && m.frobeniusNorm == 0 && m.spectralNorm == 0)
    #expect(m.stableRank == 0 && m.entropyRank == 0 && m.energyRank(0.9) == 0 && m.truncationError(rank: 1) == 0)
}
