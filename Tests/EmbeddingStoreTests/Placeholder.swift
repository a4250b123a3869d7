import Testing
@testable import EmbeddingStore

@Test func embeddingStoreModuleLoads() {}
