# remote code configuration
