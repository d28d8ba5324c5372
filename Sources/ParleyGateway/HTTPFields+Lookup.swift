import HTTPTypes

extension HTTPFields {
    /// `self[name]`, without its join when the field appears once (the usual case: the
    /// subscript joins every value through a generic lazy sequence, which showed in the
    /// profile of every request's `Authorization` lookup). Several fields are joined as the
    /// subscript joins them.
    func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
