import Testing
@testable import Embeddings

@Test func embeddingsModuleLoads() {}
