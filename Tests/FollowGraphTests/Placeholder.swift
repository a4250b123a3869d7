import Testing
@testable import FollowGraph

@Test func followGraphModuleLoads() {}
