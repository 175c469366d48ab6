/// A file is the first source of every bundle read: the codecs and the age reader read from it.
extension InputFile: ByteSource {}
