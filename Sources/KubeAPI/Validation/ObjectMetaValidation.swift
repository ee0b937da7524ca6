/// Upstream's `ValidateObjectMeta` for what kproxy stores: name (or generateName), namespace by scope,
/// label keys and values, annotation keys and total size.
public enum ObjectMetaValidation {
    /// Which syntax a kind's names follow.
    public enum NameRule: Sendable {
        case dns1123Subdomain, dns1123Label, dns1035Label

        func errors(_ name: String) -> [String] {
            switch self {
            case .dns1123Subdomain: NameValidation.dns1123SubdomainErrors(name)
            case .dns1123Label: NameValidation.dns1123LabelErrors(name)
            case .dns1035Label: NameValidation.dns1035LabelErrors(name)
            }
        }
    }

    /// Upstream's limit on the total size of a object's annotations.
    public static let maxAnnotationsBytes = 256 * 1024

    public static func validate(_ meta: ObjectMeta, namespaced: Bool, nameRule: NameRule) -> [StatusCause] {
        var causes: [StatusCause] = []
        if let generateName = meta.generateName, !generateName.isEmpty {
            // Upstream validates the prefix with any trailing "-" masked.
            let masked = generateName.hasSuffix("-") ? String(generateName.dropLast()) + "a" : generateName
            for msg in nameRule.errors(masked) { causes.append(.invalid("metadata.generateName", generateName, msg)) }
        }
        if let name = meta.name, !name.isEmpty {
            for msg in nameRule.errors(name) { causes.append(.invalid("metadata.name", name, msg)) }
        } else if (meta.generateName ?? "").isEmpty {
            causes.append(.required("metadata.name", "name or generateName is required"))
        }
        let namespace = meta.namespace ?? ""
        if namespaced {
            if namespace.isEmpty {
                causes.append(.required("metadata.namespace"))
            } else {
                for msg in NameValidation.dns1123LabelErrors(namespace) { causes.append(.invalid("metadata.namespace", namespace, msg)) }
            }
        } else if !namespace.isEmpty {
            causes.append(.forbidden("metadata.namespace", "not allowed on this type"))
        }
        causes += validateLabels(meta.labels ?? [:], field: "metadata.labels")
        causes += validateAnnotations(meta.annotations ?? [:], field: "metadata.annotations")
        return causes
    }

    /// Label keys must be qualified names, values valid label values (also used for selectors).
    public static func validateLabels(_ labels: [String: String], field: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            for msg in NameValidation.qualifiedNameErrors(key) { causes.append(.invalid(field, key, msg)) }
            for msg in NameValidation.labelValueErrors(value) { causes.append(.invalid(field, value, msg)) }
        }
        return causes
    }

    /// Annotation keys must be qualified names (case-insensitively); the total is at most 256 KiB.
    public static func validateAnnotations(_ annotations: [String: String], field: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        var total = 0
        for (key, value) in annotations.sorted(by: { $0.key < $1.key }) {
            total += key.utf8.count + value.utf8.count
            for msg in NameValidation.qualifiedNameErrors(key.lowercased()) { causes.append(.invalid(field, key, msg)) }
        }
        if total > maxAnnotationsBytes { causes.append(.tooLong(field, max: maxAnnotationsBytes)) }
        return causes
    }
}
