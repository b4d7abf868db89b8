// The --vscode-* variables a VS Code webview gets from its theme, for the HTML report opened outside
// VS Code: Dark Modern and Light Modern defaults (body.vscode-dark / body.vscode-light).

const common = `
  --vscode-font-family: -apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif;
  --vscode-font-size: 13px;
  --vscode-font-weight: normal;
  --vscode-editor-font-family: "Droid Sans Mono", "Cascadia Mono", Consolas, "Courier New", monospace;
  --vscode-editor-font-size: 13px;`;

const dark = `
  --vscode-editor-background: #1f1f1f;
  --vscode-editor-foreground: #cccccc;
  --vscode-foreground: #cccccc;
  --vscode-descriptionForeground: #9d9d9d;
  --vscode-errorForeground: #f85149;
  --vscode-focusBorder: #0078d4;
  --vscode-widget-border: #313131;
  --vscode-panel-border: #2b2b2b;
  --vscode-panel-background: #181818;
  --vscode-sideBar-background: #181818;
  --vscode-editorWidget-background: #202020;
  --vscode-button-background: #0078d4;
  --vscode-button-foreground: #ffffff;
  --vscode-button-hoverBackground: #026ec1;
  --vscode-button-border: #ffffff12;
  --vscode-button-secondaryBackground: #313131;
  --vscode-button-secondaryForeground: #cccccc;
  --vscode-button-secondaryHoverBackground: #3c3c3c;
  --vscode-badge-background: #616161;
  --vscode-badge-foreground: #f8f8f8;
  --vscode-dropdown-background: #313131;
  --vscode-dropdown-border: #3c3c3c;
  --vscode-dropdown-foreground: #cccccc;
  --vscode-dropdown-listBackground: #1f1f1f;
  --vscode-input-background: #313131;
  --vscode-input-border: #3c3c3c;
  --vscode-input-foreground: #cccccc;
  --vscode-input-placeholderForeground: #989898;
  --vscode-list-hoverBackground: #2a2d2e;
  --vscode-list-activeSelectionBackground: #04395e;
  --vscode-list-activeSelectionForeground: #ffffff;
  --vscode-list-focusOutline: #0078d4;
  --vscode-panelTitle-activeBorder: #0078d4;
  --vscode-panelTitle-activeForeground: #cccccc;
  --vscode-panelTitle-inactiveForeground: #9d9d9d;
  --vscode-textLink-foreground: #4daafc;
  --vscode-charts-foreground: #cccccc;
  --vscode-charts-lines: #cccccc80;
  --vscode-charts-red: #f14c4c;
  --vscode-charts-blue: #3794ff;
  --vscode-charts-yellow: #cca700;
  --vscode-charts-orange: #d18616;
  --vscode-charts-green: #89d185;
  --vscode-charts-purple: #b180d7;
  --vscode-keybindingTable-rowsBackground: #ffffff0a;
  --vscode-editorGroup-border: #ffffff17;
  --vscode-sash-hoverBorder: #0078d4;
  --vscode-scrollbarSlider-background: #79797966;
  --vscode-scrollbarSlider-hoverBackground: #646464b3;
  --vscode-settings-headerForeground: #ffffff;
  --vscode-toolbar-hoverBackground: #5a5d5e50;
  --vscode-icon-foreground: #cccccc;
  --vscode-settings-dropdownBackground: #313131;
  --vscode-settings-dropdownForeground: #cccccc;
  --vscode-settings-dropdownBorder: #3c3c3c;
  --vscode-settings-dropdownListBorder: #454545;
  --vscode-settings-textInputBackground: #313131;
  --vscode-settings-textInputForeground: #cccccc;
  --vscode-settings-textInputBorder: #3c3c3c;
  --vscode-settings-headerBorder: #2b2b2b;
  --vscode-widget-shadow: #0000005c;
  --vscode-list-highlightForeground: #2aaaff;
  --vscode-list-focusHighlightForeground: #2aaaff;
  --vscode-activityBarBadge-background: #0078d4;
  --vscode-activityBarBadge-foreground: #ffffff;
  --vscode-inputValidation-errorBackground: #5a1d1d;
  --vscode-inputValidation-errorBorder: #be1100;`;

const light = `
  --vscode-editor-background: #ffffff;
  --vscode-editor-foreground: #3b3b3b;
  --vscode-foreground: #3b3b3b;
  --vscode-descriptionForeground: #6e6e6e;
  --vscode-errorForeground: #f85149;
  --vscode-focusBorder: #005fb8;
  --vscode-widget-border: #e5e5e5;
  --vscode-panel-border: #e5e5e5;
  --vscode-panel-background: #f8f8f8;
  --vscode-sideBar-background: #f8f8f8;
  --vscode-editorWidget-background: #f8f8f8;
  --vscode-button-background: #005fb8;
  --vscode-button-foreground: #ffffff;
  --vscode-button-hoverBackground: #0258a8;
  --vscode-button-border: #0000001a;
  --vscode-button-secondaryBackground: #e5e5e5;
  --vscode-button-secondaryForeground: #3b3b3b;
  --vscode-button-secondaryHoverBackground: #cccccc;
  --vscode-badge-background: #cccccc;
  --vscode-badge-foreground: #3b3b3b;
  --vscode-dropdown-background: #ffffff;
  --vscode-dropdown-border: #cecece;
  --vscode-dropdown-foreground: #3b3b3b;
  --vscode-dropdown-listBackground: #ffffff;
  --vscode-input-background: #ffffff;
  --vscode-input-border: #cecece;
  --vscode-input-foreground: #3b3b3b;
  --vscode-input-placeholderForeground: #767676;
  --vscode-list-hoverBackground: #f2f2f2;
  --vscode-list-activeSelectionBackground: #e8e8e8;
  --vscode-list-activeSelectionForeground: #000000;
  --vscode-list-focusOutline: #005fb8;
  --vscode-panelTitle-activeBorder: #005fb8;
  --vscode-panelTitle-activeForeground: #3b3b3b;
  --vscode-panelTitle-inactiveForeground: #6e6e6e;
  --vscode-textLink-foreground: #005fb8;
  --vscode-charts-foreground: #616161;
  --vscode-charts-lines: #61616180;
  --vscode-charts-red: #e51400;
  --vscode-charts-blue: #1a85ff;
  --vscode-charts-yellow: #bf8803;
  --vscode-charts-orange: #d18616;
  --vscode-charts-green: #388a34;
  --vscode-charts-purple: #652d90;
  --vscode-keybindingTable-rowsBackground: #0000000a;
  --vscode-editorGroup-border: #e5e5e5;
  --vscode-sash-hoverBorder: #005fb8;
  --vscode-scrollbarSlider-background: #64646466;
  --vscode-scrollbarSlider-hoverBackground: #646464b3;
  --vscode-settings-headerForeground: #1f1f1f;
  --vscode-toolbar-hoverBackground: #b8b8b850;
  --vscode-icon-foreground: #3b3b3b;
  --vscode-settings-dropdownBackground: #ffffff;
  --vscode-settings-dropdownForeground: #3b3b3b;
  --vscode-settings-dropdownBorder: #cecece;
  --vscode-settings-dropdownListBorder: #c8c8c8;
  --vscode-settings-textInputBackground: #ffffff;
  --vscode-settings-textInputForeground: #3b3b3b;
  --vscode-settings-textInputBorder: #cecece;
  --vscode-settings-headerBorder: #e5e5e5;
  --vscode-widget-shadow: #00000029;
  --vscode-list-highlightForeground: #0066bf;
  --vscode-list-focusHighlightForeground: #0066bf;
  --vscode-activityBarBadge-background: #005fb8;
  --vscode-activityBarBadge-foreground: #ffffff;
  --vscode-inputValidation-errorBackground: #f2dede;
  --vscode-inputValidation-errorBorder: #be1100;`;

export const STATIC_THEME_CSS = `html {${common}
}
body.vscode-dark {${dark}
  color-scheme: dark;
}
body.vscode-light {${light}
  color-scheme: light;
}
`;
