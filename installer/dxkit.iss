; Inno Setup 6 script for the dxkit desktop app (Windows, per-user, no administrator rights).
;
;   py installer\build.py        builds dist\dxkit\ and writes dist\dxkit-version.isi
;   ISCC installer\dxkit.iss     makes dist\dxkit-setup-<version>.exe
;
; Needs Inno Setup 6.3 or later (the x64compatible architecture name).
; Installs into %LOCALAPPDATA%\Programs\dxkit. The user's workspace lives elsewhere, in
; %LOCALAPPDATA%\dxkit (created by the app, never by Setup), so uninstalling leaves it alone:
; this script must never list that folder under [UninstallDelete].

#define VersionFile AddBackslash(SourcePath) + "..\dist\dxkit-version.isi"
#if FileExists(VersionFile)
  #include VersionFile
#else
  #error dist\dxkit-version.isi is missing: run "py installer\build.py" first.
#endif

; Vietnamese is not among Inno Setup's bundled languages; it is one of the user-contributed
; translations (https://jrsoftware.org/files/istrans/). Put Vietnamese.isl next to this script
; or into Inno Setup's Languages folder to get a Vietnamese installer; otherwise it is English only.
#if FileExists(AddBackslash(SourcePath) + "Vietnamese.isl")
  #define VietnameseMessages "Vietnamese.isl"
#elif FileExists(AddBackslash(CompilerPath) + "Languages\Vietnamese.isl")
  #define VietnameseMessages "compiler:Languages\Vietnamese.isl"
#else
  #pragma message "Vietnamese.isl not found: building an English-only installer."
#endif

[Setup]
; AppId identifies the app for upgrades and uninstall; never change it.
AppId={{9EFBCC55-8F7B-481E-90C3-D03B864DA0FE}
AppName=dxkit
AppVersion={#AppVersion}
AppVerName=dxkit {#AppVersion}
AppPublisher=dxkit
; Per-user install: no UAC prompt, works on shared commune-office machines without admin rights.
PrivilegesRequired=lowest
; {userpf} is %LOCALAPPDATA%\Programs.
DefaultDirName={userpf}\dxkit
DisableProgramGroupPage=yes
DisableDirPage=auto
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\dist
OutputBaseFilename=dxkit-setup-{#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayName=dxkit
UninstallDisplayIcon={app}\dxkit.exe
; Close a running dxkit before replacing its files.
CloseApplications=yes
RestartApplications=no

[Languages]
#ifdef VietnameseMessages
Name: "vi"; MessagesFile: "{#VietnameseMessages}"
#endif
Name: "en"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole PyInstaller folder: dxkit.exe (the app), dxkit-cli.exe (the command line), _internal\.
Source: "..\dist\dxkit\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundle wholesale, so no file of an older version lingers in it.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\dxkit"; Filename: "{app}\dxkit.exe"; WorkingDir: "{app}"
Name: "{autodesktop}\dxkit"; Filename: "{app}\dxkit.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\dxkit.exe"; Description: "{cm:LaunchProgram,dxkit}"; Flags: nowait postinstall skipifsilent
