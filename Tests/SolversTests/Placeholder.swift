import Testing
@testable import Solvers

@Test func solversModuleLoads() {}
