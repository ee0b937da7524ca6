// Field numbers and names from the `generated.proto` descriptors of Kubernetes 1.32 (authorization/v1,
// authentication/v1): the review kinds kubectl's `auth can-i` and `auth whoami` send as protobuf.
extension ProtobufSchema {
    static let auth: [String: ProtoMessage] = [
        "SelfSubjectAccessReview": [1: .message("metadata", "ObjectMeta"), 2: .message("spec", "SelfSubjectAccessReviewSpec")],
        "SelfSubjectAccessReviewSpec": [1: .message("resourceAttributes", "ResourceAttributes"),
                                        2: .message("nonResourceAttributes", "NonResourceAttributes")],
        "ResourceAttributes": [1: .string("namespace"), 2: .string("verb"), 3: .string("group"), 4: .string("version"),
                               5: .string("resource"), 6: .string("subresource"), 7: .string("name")],
        "NonResourceAttributes": [1: .string("path"), 2: .string("verb")],
        "SelfSubjectRulesReview": [1: .message("metadata", "ObjectMeta"), 2: .message("spec", "SelfSubjectRulesReviewSpec")],
        "SelfSubjectRulesReviewSpec": [1: .string("namespace")],
        "SelfSubjectReview": [1: .message("metadata", "ObjectMeta")],
    ]
}
