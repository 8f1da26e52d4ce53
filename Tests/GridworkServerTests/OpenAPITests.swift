import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Yams

/// The contract at /openapi.yaml and the router agree, and real answers match their schemas.
@Suite struct OpenAPITests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedPathIsRouted() async throws {
        try await withApp { client, routes in
            let doc = try Self.document(try await client.get("/openapi.yaml").text)
            #expect(doc["openapi"] as? String == "3.1.0")
            let paths = doc["paths"] as? [String: Any] ?? [:]
            let documented = Set(paths.flatMap { path, item in
                ((item as? [String: Any]) ?? [:]).keys.map { "\($0.uppercased()) \(path)" }
            })
            // Pages, the stylesheet and the contract itself are not API routes.
            let api = Set(routes.filter {
                $0.contains(" /api/") || $0.hasSuffix(" /healthz") || $0.hasSuffix(" /metrics")
            })
            #expect(api == documented)
        }
    }

    @Test func responsesMatchTheirSchemas() async throws {
        try await withApp { client, _ in
            let doc = try Self.document(try await client.get("/openapi.yaml").text)
            let cases: [(uri: String, path: String, status: String)] = [
                ("/api/v1/net", "/api/v1/net", "200"),
                ("/api/v1/stats", "/api/v1/stats", "200"),
                ("/api/v1/regions/430524001", "/api/v1/regions/{code}", "200"),
                ("/api/v1/regions/430524001001001", "/api/v1/regions/{code}", "200"),
                ("/api/v1/buildings/430524001001001002", "/api/v1/buildings/{code}", "200"),
                ("/api/v1/regions/zz", "/api/v1/regions/{code}", "400"),
                ("/api/v1/buildings/430524001001001999", "/api/v1/buildings/{code}", "404"),
            ]
            for c in cases {
                let answer = try await client.get(c.uri)
                #expect(String(answer.status.code) == c.status, "\(c.uri)")
                let schema = try Self.responseSchema(doc, path: c.path, status: c.status)
                var problems: [String] = []
                Self.validate(answer.json, against: schema, in: doc, at: c.uri, problems: &problems)
                #expect(problems.isEmpty, "\(problems.prefix(5))")
            }
        }
    }

    @Test func theValidatorCatchesAMismatch() throws {
        let doc: [String: Any] = [:]
        var problems: [String] = []
        Self.validate(["a": "x"], against: ["type": "object", "required": ["a", "b"], "properties": ["a": ["type": "integer"]]],
                      in: doc, at: "$", problems: &problems)
        #expect(problems.count == 2)
    }

    static func document(_ text: String) throws -> [String: Any] {
        try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    static func responseSchema(_ doc: [String: Any], path: String, status: String) throws -> [String: Any] {
        let op = try #require(((doc["paths"] as? [String: Any])?[path] as? [String: Any])?["get"] as? [String: Any])
        var response = try #require((op["responses"] as? [String: Any])?[status] as? [String: Any])
        if let ref = response["$ref"] as? String { response = resolve(ref, in: doc) }
        let content = try #require((response["content"] as? [String: Any])?["application/json"] as? [String: Any])
        return try #require(content["schema"] as? [String: Any])
    }

    static func resolve(_ ref: String, in doc: [String: Any]) -> [String: Any] {
        var node: Any = doc
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] ?? [:] }
        return node as? [String: Any] ?? [:]
    }

    /// The subset of JSON Schema the contract uses: $ref, type, required, properties, items, enum.
    static func validate(_ value: Any, against schema: [String: Any], in doc: [String: Any], at where_: String, problems: inout [String]) {
        if let ref = schema["$ref"] as? String {
            validate(value, against: resolve(ref, in: doc), in: doc, at: where_, problems: &problems)
            return
        }
        if let allowed = schema["enum"] as? [String], !allowed.contains(value as? String ?? "\u{0}") {
            problems.append("\(where_): \(value) not in \(allowed)")
        }
        switch schema["type"] as? String {
        case "object":
            guard let object = value as? [String: Any] else { problems.append("\(where_): not an object"); return }
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                problems.append("\(where_): missing \(key)")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, v) in object {
                guard let sub = properties[key] as? [String: Any] else { problems.append("\(where_): undocumented \(key)"); continue }
                validate(v, against: sub, in: doc, at: "\(where_).\(key)", problems: &problems)
            }
        case "array":
            guard let array = value as? [Any] else { problems.append("\(where_): not an array"); return }
            if let items = schema["items"] as? [String: Any] {
                for (i, v) in array.enumerated() { validate(v, against: items, in: doc, at: "\(where_)[\(i)]", problems: &problems) }
            }
        case "integer":
            if !(value is NSNumber) || (value as! NSNumber).doubleValue != (value as! NSNumber).doubleValue.rounded() {
                problems.append("\(where_): not an integer")
            }
        case "number":
            if !(value is NSNumber) { problems.append("\(where_): not a number") }
        case "string":
            if !(value is String) { problems.append("\(where_): not a string") }
        default: break
        }
    }
}
