import Testing
@testable import Compression

@Test func compressionModuleLoads() {}
