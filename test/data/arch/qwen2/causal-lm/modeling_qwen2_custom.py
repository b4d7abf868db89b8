# remote code model
