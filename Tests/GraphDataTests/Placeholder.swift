import Testing
@testable import GraphData

@Test func graphDataModuleLoads() {}
